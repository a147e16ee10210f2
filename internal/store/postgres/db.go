package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/capd-dev/capd/internal/store/storecore"
)

// Options configures the stores. The clock and the ID generator are
// injectable so tests and conformance fixtures are deterministic.
type Options struct {
	Now   func() time.Time           // clock; nil means time.Now
	NewID func(prefix string) string // ID generator; nil means storecore.NewID

	// MaxConns caps the connection pool; 0 keeps pgxpool's default (the
	// larger of 4 and the number of CPUs), or pool_max_conns in the DSN.
	MaxConns int32
}

// withDefaults returns o with every zero field replaced by its default.
func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = storecore.NewID
	}
	return o
}

// DB is a PostgreSQL database holding the control schema and one schema
// per tenant, shared by every capd node that opens it.
type DB struct {
	pool    *pgxpool.Pool
	opts    Options
	control *Control
	tenants *Tenants
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string), creates and migrates the control schema, and returns the DB.
// The caller closes it with Close.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	opts = opts.withDefaults()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := migrateSchema(ctx, pool, ControlSchema, controlMigrations); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db := &DB{pool: pool, opts: opts}
	db.control = &Control{pool: pool, now: opts.Now}
	db.tenants = &Tenants{db: db, ready: map[string]*tenantReady{}}
	return db, nil
}

// Control returns the control store.
func (db *DB) Control() *Control { return db.control }

// Close closes every connection; the DB is unusable afterwards.
func (db *DB) Close() { db.pool.Close() }

// PoolStat returns the connection pool's statistics now, for metrics.
func (db *DB) PoolStat() *pgxpool.Stat { return db.pool.Stat() }

// Describe names the database for people: user, host, port and database,
// never the password.
func (db *DB) Describe() string {
	c := db.pool.Config().ConnConfig
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}
