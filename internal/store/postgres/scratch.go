package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/capd-dev/capd/internal/capability"
)

var (
	_ capability.ScratchStores = (*Tenants)(nil)
	_ capability.TenantStore   = (*scratchStore)(nil)
)

// Scratch returns a store over slug's live schema inside one transaction
// that is never committed: every View and Update runs in a savepoint of
// it, and discard rolls the whole transaction back. Nothing written
// through the store is ever visible to another connection, so a
// conformance run against live data changes nothing.
//
// The transaction is REPEATABLE READ and takes its snapshot as it begins,
// so the store holds the tenant's data as it is when Scratch returns, as
// the SQLite store's file copy does: live writes made later stay out of
// it. (A scratch write to a row a later live write changed fails to
// serialise instead of overwriting it.)
//
// Unlike a live Update, the scratch transaction does not take the
// tenant's write lock: it would hold it, and stop every live write to the
// tenant, until discard. Its own writes are new rows no live transaction
// can see; a live writer waits only if it touches a row the run updated,
// and conformance runs work on rows they create.
//
// The transaction holds one pooled connection until discard.
func (t *Tenants) Scratch(ctx context.Context, slug string) (capability.TenantStore, func() error, error) {
	if _, err := t.Tenant(ctx, slug); err != nil {
		return nil, nil, err
	}
	schema := pgx.Identifier{TenantSchema(slug)}.Sanitize()
	outer, err := t.db.pool.BeginTx(ctx, pgx.TxOptions{
		// SELECT 1 takes the snapshot now rather than at the first call.
		BeginQuery: "BEGIN ISOLATION LEVEL REPEATABLE READ READ WRITE; SET LOCAL search_path TO " + schema + "; SELECT 1",
	})
	if err != nil {
		return nil, nil, fmt.Errorf("scratch transaction on tenant %s: %w", slug, err)
	}
	s := &scratchStore{tenants: t, slug: slug, outer: outer}
	discard := func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			return nil
		}
		s.closed = true
		return s.outer.Rollback(context.Background())
	}
	return s, discard, nil
}

// scratchStore is the TenantStore Scratch returns. One connection serves
// it, so calls take turns.
type scratchStore struct {
	tenants *Tenants
	slug    string

	mu     sync.Mutex
	outer  pgx.Tx
	closed bool
}

var errScratchClosed = errors.New("scratch store used after discard")

// View runs fn in a read-only savepoint that is always rolled back: a
// write fails, as it does in a live View.
func (s *scratchStore) View(ctx context.Context, fn func(capability.Tx) error) error {
	return s.run(ctx, false, fn)
}

// Update runs fn in a savepoint that is released when fn returns nil and
// rolled back otherwise, so a rejected call changes nothing even within
// the scratch transaction.
func (s *scratchStore) Update(ctx context.Context, fn func(capability.Tx) error) error {
	return s.run(ctx, true, fn)
}

func (s *scratchStore) run(ctx context.Context, write bool, fn func(capability.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errScratchClosed
	}
	sp, err := s.outer.Begin(ctx)
	if err != nil {
		return fmt.Errorf("scratch savepoint on tenant %s: %w", s.slug, err)
	}
	released := false
	defer func() {
		if !released {
			_ = sp.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if !write {
		// Local to the savepoint: rolling it back makes the transaction
		// writable again for the next Update.
		if _, err := sp.Exec(ctx, "SET TRANSACTION READ ONLY"); err != nil {
			return fmt.Errorf("scratch read-only savepoint on tenant %s: %w", s.slug, err)
		}
	}
	opts := s.tenants.db.opts
	if err := fn(&tx{tx: sp, now: opts.Now, newID: opts.NewID}); err != nil {
		return err
	}
	if !write {
		return nil
	}
	if err := sp.Commit(ctx); err != nil {
		return fmt.Errorf("scratch release on tenant %s: %w", s.slug, err)
	}
	released = true
	return nil
}
