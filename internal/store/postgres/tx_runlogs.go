package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

// DefaultRunLogLimit is the number of log entries FindRunLog returns when
// limit is zero or below; the same as the SQLite store's.
const DefaultRunLogLimit = storecore.DefaultRunLogLimit

// AppendRunLog numbers entries after the run's last one and inserts them,
// setting each entry's RunID and Seq, and At from the store's clock when it
// is zero. The next number is read once: nothing else can append to the
// run between that read and the insert, because a write transaction holds
// its tenant's write lock (see Tenants.store); should anything get past
// that, the primary key rejects the duplicate seq rather than storing it.
// All entries go in one statement. The run must exist; the foreign key
// rejects anything else.
func (t *tx) AppendRunLog(ctx context.Context, runID string, entries []*capability.RunLogEntry) error {
	if len(entries) == 0 {
		return nil
	}
	last, err := t.LastRunLogSeq(ctx, runID)
	if err != nil {
		return err
	}
	seqs := make([]int64, len(entries))
	levels := make([]string, len(entries))
	messages := make([]string, len(entries))
	ats := make([]time.Time, len(entries))
	for i, e := range entries {
		e.RunID = runID
		e.Seq = last + int64(i) + 1
		if e.At.IsZero() {
			e.At = t.now()
		}
		e.At = pgTime(e.At)
		seqs[i], levels[i], messages[i], ats[i] = e.Seq, e.Level, e.Message, e.At
	}
	_, err = t.tx.Exec(ctx,
		`INSERT INTO task_run_logs (run_id, seq, level, message, at)
		 SELECT $1, seq, level, message, at
		 FROM unnest($2::bigint[], $3::text[], $4::text[], $5::timestamptz[]) AS e (seq, level, message, at)`,
		runID, seqs, levels, messages, ats)
	if err != nil {
		return fmt.Errorf("append run log of %s: %w", runID, err)
	}
	return nil
}

// FindRunLog returns up to limit (DefaultRunLogLimit when zero or below) of
// the run's entries with Seq > afterSeq, in Seq order. A reader tails a log
// by passing the last Seq it has seen.
func (t *tx) FindRunLog(ctx context.Context, runID string, afterSeq int64, limit int) ([]*capability.RunLogEntry, error) {
	if limit <= 0 {
		limit = DefaultRunLogLimit
	}
	rows, err := t.tx.Query(ctx,
		"SELECT run_id, seq, level, message, at FROM task_run_logs WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
		runID, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("find run log of %s: %w", runID, err)
	}
	out, err := scanAll(rows, scanRunLogEntry)
	if err != nil {
		return nil, fmt.Errorf("find run log of %s: %w", runID, err)
	}
	return out, nil
}

// LastRunLogSeq returns the Seq of the run's newest entry, 0 if it has none
// (or the run does not exist). The primary key makes this one index probe.
func (t *tx) LastRunLogSeq(ctx context.Context, runID string) (int64, error) {
	var last int64
	err := t.tx.QueryRow(ctx,
		"SELECT coalesce(max(seq), 0) FROM task_run_logs WHERE run_id = $1", runID).Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("last run log seq of %s: %w", runID, err)
	}
	return last, nil
}

// scanRunLogEntry reads one log row.
func scanRunLogEntry(row pgx.Row) (*capability.RunLogEntry, error) {
	var e capability.RunLogEntry
	if err := row.Scan(&e.RunID, &e.Seq, &e.Level, &e.Message, &e.At); err != nil {
		return nil, err
	}
	e.At = e.At.UTC()
	return &e, nil
}
