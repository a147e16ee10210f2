package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

var (
	_ capability.TenantStores = (*Tenants)(nil)
	_ capability.TenantStore  = (*tenantStore)(nil)
)

// Tenants opens tenant databases on demand and keeps the most recently used
// ones open. It implements capability.TenantStores.
type Tenants struct {
	dir     string // DIR/tenants
	control *Control
	cache   *tenantCache
	now     func() time.Time
	newID   func(prefix string) string
	pool    pool // tenantPool with Options.TenantMaxPageCount
}

func newTenants(dir string, control *Control, opts Options) *Tenants {
	p := tenantPool
	p.maxPageCount = opts.TenantMaxPageCount
	t := &Tenants{dir: dir, control: control, now: opts.Now, newID: opts.NewID, pool: p}
	t.cache = newTenantCache(opts.MaxOpenTenants, t.openDatabase)
	return t
}

// Tenant returns the store of an existing tenant, creating and migrating its
// database on first use. An unknown slug is ErrNotFound and creates no file;
// a malformed slug is invalid_input.
func (t *Tenants) Tenant(ctx context.Context, slug string) (capability.TenantStore, error) {
	if err := storecore.ValidateSlug(slug); err != nil {
		return nil, err
	}
	// An open database proves the tenant exists (tenants are never
	// deleted), which spares the control database a read on every call.
	if !t.cache.isOpen(slug) {
		if _, err := t.control.FindTenant(ctx, slug); err != nil {
			return nil, err
		}
		h, err := t.cache.acquire(ctx, slug)
		if err != nil {
			return nil, err
		}
		t.cache.release(h)
	}
	return &tenantStore{tenants: t, slug: slug}, nil
}

// OpenCount returns how many tenant databases are open now, for metrics and
// tests. It exceeds MaxOpenTenants only while evicted databases are still
// finishing transactions.
func (t *Tenants) OpenCount() int { return t.cache.openCount() }

// TenantStats describes the tenant LRU since the store was opened. Opens,
// Hits and Evictions only grow, so they can be exported as counters and
// turned into rates; Open is a gauge.
type TenantStats struct {
	// Opens counts cold opens: a tenant database opened (and its schema
	// version checked) because no open copy was there to reuse.
	Opens uint64
	// Hits counts uses of a tenant database (every transaction, and
	// Tenant when the database was not known to be open) that found it
	// open, or being opened by another caller, and so did not open it
	// again. Hits/(Hits+Opens) is the LRU's hit rate.
	Hits uint64
	// Evictions counts databases pushed out of the LRU to make room for
	// another tenant. An evicted database still in use closes when its
	// last transaction ends; closing the store is not counted.
	Evictions uint64
	// Open is how many tenant databases are open now; see OpenCount.
	Open int
}

// Stats returns the tenant LRU's counters. It takes no lock, so it is cheap
// enough to call on every metrics scrape; the fields are read one by one
// and may be a transaction apart from each other.
func (t *Tenants) Stats() TenantStats { return t.cache.stats() }

// path returns the database file of slug, which must be valid.
func (t *Tenants) path(slug string) string {
	return filepath.Join(t.dir, slug+".db")
}

// openDatabase opens (creating if needed) and migrates the database of slug.
func (t *Tenants) openDatabase(ctx context.Context, slug string) (*database, error) {
	if err := storecore.ValidateSlug(slug); err != nil {
		return nil, err // unreachable through Tenant; guards the path below
	}
	if err := os.MkdirAll(t.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create tenant directory: %w", err)
	}
	return openDatabase(ctx, t.path(slug), t.pool, migrations, tenantMigrations)
}

// tenantStore is the lightweight handle Tenant returns. It holds no open
// database: each transaction acquires one from the LRU, so a handle kept by
// a caller never pins a file open.
type tenantStore struct {
	tenants *Tenants
	slug    string
}

// View runs fn in a read-only transaction on the tenant's reader pool.
func (s *tenantStore) View(ctx context.Context, fn func(capability.Tx) error) error {
	return s.run(ctx, fn, (*database).view)
}

// Update runs fn in an immediate write transaction on the tenant's writer;
// it commits only if fn returns nil and rolls back on an error or a panic.
func (s *tenantStore) Update(ctx context.Context, fn func(capability.Tx) error) error {
	return s.run(ctx, fn, (*database).update)
}

// run acquires the tenant database, runs fn through begin (view or update)
// and releases the database, even if fn panics.
func (s *tenantStore) run(ctx context.Context, fn func(capability.Tx) error,
	begin func(*database, context.Context, func(*sql.Tx) error) error) error {
	h, err := s.tenants.cache.acquire(ctx, s.slug)
	if err != nil {
		return err
	}
	defer s.tenants.cache.release(h)
	return begin(h.db, ctx, func(sqlTx *sql.Tx) error {
		return fn(&tx{tx: sqlTx, now: s.tenants.now, newID: s.tenants.newID})
	})
}
