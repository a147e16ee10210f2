package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
)

// DB is an open data directory: the control database plus the tenant
// databases opened on demand.
type DB struct {
	dir     string
	control *Control
	tenants *Tenants

	closeOnce sync.Once
	closeErr  error
}

// Open opens the data directory opts.Dir, creating it, its tenants
// directory and control.db as needed, and migrates control.db. Tenant
// databases open lazily, on first use.
func Open(ctx context.Context, opts Options) (*DB, error) {
	if opts.Dir == "" {
		return nil, errors.New("sqlite: Options.Dir is empty; give the data directory")
	}
	opts = opts.withDefaults()
	tenantDir := TenantsDir(opts.Dir)
	// 0700: the databases hold every tenant's data and the key hashes.
	if err := os.MkdirAll(tenantDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	db, err := openDatabase(ctx, ControlPath(opts.Dir), controlPool, migrations, controlMigrations)
	if err != nil {
		return nil, err
	}
	control := &Control{db: db, now: opts.Now}
	return &DB{
		dir:     opts.Dir,
		control: control,
		tenants: newTenants(tenantDir, control, opts),
	}, nil
}

// Control returns the control store (tenants, keys, call log).
func (db *DB) Control() *Control { return db.control }

// Tenants returns the per-tenant stores.
func (db *DB) Tenants() *Tenants { return db.tenants }

// Close closes every idle tenant database and the control database. Tenant
// databases still inside a transaction close when it ends; new transactions
// fail. Close is safe to call more than once.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.closeErr = errors.Join(db.tenants.cache.close(), db.control.db.close())
	})
	return db.closeErr
}
