package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/capd-dev/capd/internal/capability"
)

// RecordConformance stores a run's results in one transaction, so a run is
// either fully recorded or not at all.
func (c *Control) RecordConformance(ctx context.Context, results []capability.ConformanceResult) error {
	if len(results) == 0 {
		return nil
	}
	err := c.db.update(ctx, func(tx *sql.Tx) error {
		insert, err := tx.PrepareContext(ctx, `INSERT INTO conformance_results
			(run_id, provider, capability, version, case_id, kind, outcome, duration_us, started_at, message)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer insert.Close()
		for _, r := range results {
			if _, err := insert.ExecContext(ctx, r.RunID, r.Provider, r.Capability, r.Version, r.CaseID, r.Kind,
				r.Outcome, r.Duration.Microseconds(), formatTime(r.StartedAt), r.Message); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record %d conformance results: %w", len(results), err)
	}
	return nil
}

// conformanceColumns are the columns scanConformance reads, in order.
const conformanceColumns = "run_id, provider, capability, version, case_id, kind, outcome, duration_us, started_at, message"

func conformanceWhere(f capability.ConformanceFilter) *where {
	var w where
	for _, c := range [...]struct{ col, val string }{
		{"run_id", f.RunID}, {"provider", f.Provider}, {"capability", f.Capability}, {"version", f.Version}, {"outcome", f.Outcome},
	} {
		if c.val != "" {
			w.add(c.col+" = ?", c.val)
		}
	}
	return &w
}

// ListConformance returns recorded results matching f, newest first.
func (c *Control) ListConformance(ctx context.Context, f capability.ConformanceFilter) ([]capability.ConformanceResult, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultCallsLimit
	}
	w := conformanceWhere(f)
	rows, err := c.db.reader.QueryContext(ctx,
		"SELECT "+conformanceColumns+" FROM conformance_results"+w.String()+" ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?",
		append(w.args, limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, fmt.Errorf("list conformance results: %w", err)
	}
	return scanConformance(rows)
}

// LatestConformance returns the newest result of each (provider,
// capability, version, case), ordered by provider, capability, version and
// case. RunID, Outcome, Limit and Offset of f are ignored.
func (c *Control) LatestConformance(ctx context.Context, f capability.ConformanceFilter) ([]capability.ConformanceResult, error) {
	w := conformanceWhere(capability.ConformanceFilter{Provider: f.Provider, Capability: f.Capability, Version: f.Version})
	rows, err := c.db.reader.QueryContext(ctx, `SELECT `+conformanceColumns+` FROM (
		SELECT *, ROW_NUMBER() OVER (PARTITION BY provider, capability, version, case_id ORDER BY started_at DESC, id DESC) AS n
		FROM conformance_results`+w.String()+`)
		WHERE n = 1 ORDER BY provider, capability, version, case_id`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("latest conformance results: %w", err)
	}
	return scanConformance(rows)
}

func scanConformance(rows *sql.Rows) ([]capability.ConformanceResult, error) {
	defer rows.Close()
	var out []capability.ConformanceResult
	for rows.Next() {
		var r capability.ConformanceResult
		var us int64
		var started string
		if err := rows.Scan(&r.RunID, &r.Provider, &r.Capability, &r.Version, &r.CaseID, &r.Kind, &r.Outcome, &us, &started, &r.Message); err != nil {
			return nil, err
		}
		r.Duration = time.Duration(us) * time.Microsecond
		var err error
		if r.StartedAt, err = parseTime(started); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
