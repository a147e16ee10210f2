package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/capd-dev/capd/internal/capability"
)

// FindIdempotentResult returns the stored result of key.
func (t *tx) FindIdempotentResult(ctx context.Context, key string) (*capability.IdempotentResult, error) {
	r := &capability.IdempotentResult{Key: key}
	var created string
	err := t.tx.QueryRowContext(ctx,
		"SELECT capability, args_hash, result, created_at FROM idempotency_keys WHERE key = ?", key).
		Scan(&r.Capability, &r.ArgsHash, &r.Result, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("idempotency key: %w", capability.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if r.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	return r, nil
}

// SaveIdempotentResult stores r, replacing an older result with the key
// (the caller replaces only an expired one).
func (t *tx) SaveIdempotentResult(ctx context.Context, r *capability.IdempotentResult) error {
	if r.CreatedAt.IsZero() {
		r.CreatedAt = t.now()
	}
	r.CreatedAt = r.CreatedAt.UTC()
	_, err := t.tx.ExecContext(ctx,
		`INSERT INTO idempotency_keys (key, capability, args_hash, result, created_at) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (key) DO UPDATE SET capability = excluded.capability, args_hash = excluded.args_hash,
		   result = excluded.result, created_at = excluded.created_at`,
		r.Key, r.Capability, r.ArgsHash, r.Result, formatTime(r.CreatedAt))
	return err
}
