package capability

import (
	"context"
	"time"
)

// IdempotencyWindow is how long a stored result is replayed for its key.
const IdempotencyWindow = 24 * time.Hour

// IdempotentResult is the first result of a write made with an idempotency
// key, stored in the same tenant transaction as the write.
type IdempotentResult struct {
	Key        string
	Capability string // name@version
	ArgsHash   string // SHA-256 of the capability and its arguments
	Result     []byte // the JSON result
	CreatedAt  time.Time
}

// IdempotencyTx stores and finds idempotent results in a tenant
// transaction. Keys are per tenant: each tenant has its own database.
type IdempotencyTx interface {
	// FindIdempotentResult returns the stored result of key, ErrNotFound
	// when there is none.
	FindIdempotentResult(ctx context.Context, key string) (*IdempotentResult, error)
	// SaveIdempotentResult stores r, replacing an expired one with the key.
	SaveIdempotentResult(ctx context.Context, r *IdempotentResult) error
}
