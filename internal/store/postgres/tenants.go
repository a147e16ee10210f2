package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

var (
	_ capability.TenantStores = (*Tenants)(nil)
	_ capability.TenantStore  = (*tenantStore)(nil)
)

// tenantLockClass is the first key of the two-key advisory lock a write
// transaction takes on its tenant (the second is tenantLockKey). Two-key
// locks live in a key space of their own, apart from the one-bigint locks
// used for migrations, so the two never collide.
const tenantLockClass = 0x63617064 // "capd"

// tenantLockKey is the second key of slug's write lock: a hash of the
// slug, the same in every process. Two slugs with one hash only share a
// lock, which serialises their writes and is otherwise harmless.
func tenantLockKey(slug string) int32 {
	h := fnv.New32a()
	h.Write([]byte(slug))
	return int32(h.Sum32())
}

// Tenants serves tenant schemas, creating and migrating each on its first
// use by this process. It implements capability.TenantStores.
type Tenants struct {
	db *DB

	mu    sync.Mutex
	ready map[string]*tenantReady // by slug
}

// tenantReady is one slug's first use: done closes when it has been
// checked and migrated, after which err says how that went.
type tenantReady struct {
	done chan struct{}
	err  error
}

// tenantsByDB holds each DB's Tenants, so every caller of DB.Tenants shares
// one record of the schemas already migrated.
// Tenants returns the per-tenant stores.
func (db *DB) Tenants() *Tenants { return db.tenants }

// TenantSchema returns the name of the schema holding slug's data.
func TenantSchema(slug string) string { return "tenant_" + slug }

// Tenant returns the store of an existing tenant, creating and migrating
// its schema on first use. An unknown slug is ErrNotFound and creates
// nothing; a malformed slug is invalid_input.
//
// Once a slug is ready the answer is cached for the life of the process:
// tenants are never deleted, so a migrated schema stays valid, and later
// calls cost no round trip. Concurrent first uses in one process wait for
// one migration; across processes migrateSchema's advisory lock makes the
// second node wait and then find the work done. A failed first use is not
// cached, so the next call tries again.
func (t *Tenants) Tenant(ctx context.Context, slug string) (capability.TenantStore, error) {
	if err := storecore.ValidateSlug(slug); err != nil {
		return nil, err
	}
	for {
		t.mu.Lock()
		r, ok := t.ready[slug]
		if !ok {
			r = &tenantReady{done: make(chan struct{})}
			t.ready[slug] = r
		}
		t.mu.Unlock()
		if !ok {
			r.err = t.prepare(ctx, slug)
			if r.err != nil {
				t.mu.Lock()
				delete(t.ready, slug)
				t.mu.Unlock()
			}
			close(r.done)
		}
		select {
		case <-r.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if r.err == nil {
			return t.store(slug), nil
		}
		// Another caller's attempt failed, perhaps only because its
		// context ended; try again under ours.
		if ok && !errors.Is(r.err, capability.ErrNotFound) {
			continue
		}
		return nil, r.err
	}
}

// prepare checks that slug is a tenant in the control schema and brings its
// schema to the newest migration.
func (t *Tenants) prepare(ctx context.Context, slug string) error {
	if _, err := t.db.control.FindTenant(ctx, slug); err != nil {
		return err
	}
	return migrateSchema(ctx, t.db.pool, TenantSchema(slug), tenantMigrations)
}

// store returns the handle of a ready tenant. The SQL that starts its
// transactions is built once here, from the sanitized schema identifier.
//
// Each transaction starts with one round trip: BEGIN, SET LOCAL
// search_path and, for writes, the tenant's lock go to the server as one
// simple-protocol query (pgx runs a BeginQuery with no arguments that way).
// search_path holds only the tenant's schema, so an unqualified name can
// reach no other tenant's tables.
func (t *Tenants) store(slug string) *tenantStore {
	schema := pgx.Identifier{TenantSchema(slug)}.Sanitize()
	setPath := "SET LOCAL search_path TO " + schema
	return &tenantStore{
		tenants: t,
		slug:    slug,
		// REPEATABLE READ: every read of a View sees one snapshot, as a
		// SQLite read transaction does; a read-only transaction at this
		// level never fails to serialise.
		viewSQL: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; " + setPath,
		// Writes to one tenant take its lock first, which gives each
		// tenant SQLite's single writer: the store's and the providers'
		// read-then-write sequences (a transition reads the task, checks
		// the move and writes it back; a log append reads the last seq;
		// a project name is checked before the insert) cannot interleave
		// with another writer's. Row locks (SELECT ... FOR UPDATE) would
		// need every such read to know it precedes a write, which the
		// Tx interface does not say, and SERIALIZABLE would need callers
		// to retry. READ COMMITTED after the lock: each statement then
		// sees every write committed before the lock was granted.
		updateSQL: "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE; " + setPath +
			"; SELECT pg_advisory_xact_lock(" + strconv.Itoa(tenantLockClass) + ", " + strconv.Itoa(int(tenantLockKey(slug))) + ")",
	}
}

// tenantStore is the handle Tenant returns; it holds no connection, so a
// handle kept by a caller pins nothing.
type tenantStore struct {
	tenants   *Tenants
	slug      string
	viewSQL   string
	updateSQL string
}

// View runs fn in a read-only transaction on the tenant's schema. It always
// rolls back: there is nothing to commit.
func (s *tenantStore) View(ctx context.Context, fn func(capability.Tx) error) error {
	pgTx, err := s.tenants.db.pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: s.viewSQL})
	if err != nil {
		return fmt.Errorf("begin read transaction on tenant %s: %w", s.slug, err)
	}
	defer func() {
		// Rolls back on success, error and panic alike; a panic keeps
		// unwinding after this deferred call returns.
		_ = pgTx.Rollback(context.WithoutCancel(ctx))
	}()
	return fn(s.tx(pgTx))
}

// Update runs fn in a write transaction holding the tenant's write lock and
// commits only when fn returns nil. On an error or a panic the transaction
// rolls back, so a rejected call changes nothing.
func (s *tenantStore) Update(ctx context.Context, fn func(capability.Tx) error) error {
	pgTx, err := s.tenants.db.pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: s.updateSQL})
	if err != nil {
		return fmt.Errorf("begin write transaction on tenant %s: %w", s.slug, err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = pgTx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := fn(s.tx(pgTx)); err != nil {
		return err
	}
	if err := pgTx.Commit(ctx); err != nil {
		return fmt.Errorf("commit on tenant %s: %w", s.slug, err)
	}
	committed = true
	return nil
}

// tx wraps a pgx transaction as the capability.Tx of this tenant.
func (s *tenantStore) tx(pgTx pgx.Tx) *tx {
	opts := s.tenants.db.opts
	return &tx{tx: pgTx, now: opts.Now, newID: opts.NewID}
}
