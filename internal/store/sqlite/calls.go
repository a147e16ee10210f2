package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/capd-dev/capd/internal/capability"
)

// DefaultCallsLimit is how many calls ListCalls returns when limit is zero
// or below.
const DefaultCallsLimit = 100

// RecordCalls appends a batch to the call log in one transaction, and moves
// each key's last-used time forward to its newest call in the batch. Deriving
// last use from the batched log keeps Authenticate a pure read: a write per
// request would queue every request behind the control database's single
// writer.
func (c *Control) RecordCalls(ctx context.Context, calls []capability.CallRecord) error {
	if len(calls) == 0 {
		return nil
	}
	lastUsed := make(map[string]time.Time)
	for _, r := range calls {
		if r.KeyPrefix != "" && r.At.After(lastUsed[r.KeyPrefix]) {
			lastUsed[r.KeyPrefix] = r.At
		}
	}
	err := c.db.update(ctx, func(tx *sql.Tx) error {
		insert, err := tx.PrepareContext(ctx,
			"INSERT INTO calls (at, tenant, key_prefix, capability, outcome, duration_us, replayed) VALUES (?, ?, ?, ?, ?, ?, ?)")
		if err != nil {
			return err
		}
		defer insert.Close()
		for _, r := range calls {
			if _, err := insert.ExecContext(ctx, formatTime(r.At), r.Tenant, r.KeyPrefix, r.Capability, r.Outcome, r.Duration.Microseconds(), r.Replayed); err != nil {
				return err
			}
		}
		for prefix, at := range lastUsed {
			// Timestamps are fixed-width text, so text order is time order.
			if _, err := tx.ExecContext(ctx,
				"UPDATE api_keys SET last_used_at = ?1 WHERE prefix = ?2 AND (last_used_at IS NULL OR last_used_at < ?1)",
				formatTime(at), prefix); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record %d calls: %w", len(calls), err)
	}
	return nil
}

// ListCalls returns up to limit calls of tenant at or after since, newest
// first. An empty tenant lists every tenant's calls; a zero since lists from
// the beginning; limit <= 0 means DefaultCallsLimit.
func (c *Control) ListCalls(ctx context.Context, tenant string, since time.Time, limit int) ([]capability.CallRecord, error) {
	if limit <= 0 {
		limit = DefaultCallsLimit
	}
	var w where
	if tenant != "" {
		w.add("tenant = ?", tenant)
	}
	if !since.IsZero() {
		w.add("at >= ?", formatTime(since))
	}
	rows, err := c.db.reader.QueryContext(ctx,
		"SELECT at, tenant, key_prefix, capability, outcome, duration_us, replayed FROM calls"+w.String()+
			" ORDER BY at DESC, id DESC LIMIT ?", append(w.args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list calls: %w", err)
	}
	defer rows.Close()
	var out []capability.CallRecord
	for rows.Next() {
		var r capability.CallRecord
		var at string
		var us int64
		if err := rows.Scan(&at, &r.Tenant, &r.KeyPrefix, &r.Capability, &r.Outcome, &us, &r.Replayed); err != nil {
			return nil, fmt.Errorf("list calls: %w", err)
		}
		if r.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("list calls: %w", err)
		}
		r.Duration = time.Duration(us) * time.Microsecond
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list calls: %w", err)
	}
	return out, nil
}
