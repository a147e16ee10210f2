package sqlite

import (
	"context"
	"fmt"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

// DefaultRunLogLimit is the number of log entries FindRunLog returns when
// limit is zero or below.
const DefaultRunLogLimit = storecore.DefaultRunLogLimit

// AppendRunLog numbers entries after the run's last one and inserts them,
// setting each entry's RunID and Seq, and At from the store's clock when it
// is zero. The next number is read once: within a write transaction nothing
// else can append to the run between that read and the inserts, because
// the tenant has one writer connection and transactions take the write lock
// up front. The run must exist; the foreign key rejects anything else.
func (t *tx) AppendRunLog(ctx context.Context, runID string, entries []*capability.RunLogEntry) error {
	if len(entries) == 0 {
		return nil
	}
	last, err := t.LastRunLogSeq(ctx, runID)
	if err != nil {
		return err
	}
	insert, err := t.tx.PrepareContext(ctx,
		"INSERT INTO task_run_logs (run_id, seq, level, message, at) VALUES (?, ?, ?, ?, ?)")
	if err != nil {
		return fmt.Errorf("append run log of %s: %w", runID, err)
	}
	defer insert.Close()
	for i, e := range entries {
		e.RunID = runID
		e.Seq = last + int64(i) + 1
		t.stamp(&e.At, nil)
		if _, err := insert.ExecContext(ctx, e.RunID, e.Seq, e.Level, e.Message, formatTime(e.At)); err != nil {
			return fmt.Errorf("append run log of %s: %w", runID, err)
		}
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
	rows, err := t.tx.QueryContext(ctx,
		"SELECT run_id, seq, level, message, at FROM task_run_logs WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
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
	err := t.tx.QueryRowContext(ctx,
		"SELECT coalesce(max(seq), 0) FROM task_run_logs WHERE run_id = ?", runID).Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("last run log seq of %s: %w", runID, err)
	}
	return last, nil
}

// scanRunLogEntry reads one log row.
func scanRunLogEntry(s scanner) (*capability.RunLogEntry, error) {
	var e capability.RunLogEntry
	var at string
	if err := s.Scan(&e.RunID, &e.Seq, &e.Level, &e.Message, &at); err != nil {
		return nil, err
	}
	var err error
	if e.At, err = parseTime(at); err != nil {
		return nil, err
	}
	return &e, nil
}
