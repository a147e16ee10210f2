package postgres

import (
	"context"
	"fmt"

	"github.com/capd-dev/capd/internal/capability"
)

// FindIdempotentResult returns the stored result of key, or ErrNotFound.
func (t *tx) FindIdempotentResult(ctx context.Context, key string) (*capability.IdempotentResult, error) {
	r := &capability.IdempotentResult{Key: key}
	err := t.tx.QueryRow(ctx,
		"SELECT capability, args_hash, result, created_at FROM idempotency_keys WHERE key = $1", key).
		Scan(&r.Capability, &r.ArgsHash, &r.Result, &r.CreatedAt)
	if err != nil {
		return nil, notFound(err, "idempotency key", "find idempotency key")
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return r, nil
}

// SaveIdempotentResult stores r, replacing an older result with the key
// (the caller replaces only an expired one). The key is per tenant: the
// table is in the tenant's schema.
func (t *tx) SaveIdempotentResult(ctx context.Context, r *capability.IdempotentResult) error {
	if r.CreatedAt.IsZero() {
		r.CreatedAt = t.now()
	}
	r.CreatedAt = pgTime(r.CreatedAt)
	_, err := t.tx.Exec(ctx,
		`INSERT INTO idempotency_keys (key, capability, args_hash, result, created_at) VALUES ($1, $2, $3, $4, $5)
		 ON CONFLICT (key) DO UPDATE SET capability = excluded.capability, args_hash = excluded.args_hash,
		   result = excluded.result, created_at = excluded.created_at`,
		r.Key, r.Capability, r.ArgsHash, r.Result, r.CreatedAt)
	if err != nil {
		return fmt.Errorf("save idempotency key: %w", err)
	}
	return nil
}
