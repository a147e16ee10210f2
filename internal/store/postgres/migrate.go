package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

// migrations holds the schema of both kinds of schema, one ordered goose
// directory each. They are embedded so the binary alone can create and
// upgrade a database.
//
//go:embed migrations
var migrations embed.FS

// Migration directories inside migrations.
const (
	controlMigrations = "migrations/control"
	tenantMigrations  = "migrations/tenant"
)

// ControlSchema is the schema of the control data.
const ControlSchema = "capd_control"

// migrateSchema creates schema if it does not exist and brings it to the
// newest migration in dir, running goose with search_path set to schema so
// the migrations' unqualified names, and goose's own version table, land in
// it.
//
// Several nodes may migrate the same schema at once (two nodes serving a
// tenant's first request), so the whole step runs under a session advisory
// lock keyed by the schema's name: the second node waits, then finds the
// work done. capd takes the lock itself, blocking, rather than through
// goose's session locker, which polls every five seconds.
func migrateSchema(ctx context.Context, pool *pgxpool.Pool, schema, dir string) (err error) {
	ident := pgx.Identifier{schema}.Sanitize()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate schema %s: %w", schema, err)
	}
	defer conn.Release()
	lockKey := "capd migrate " + schema
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtextextended($1, 0))", lockKey); err != nil {
		return fmt.Errorf("migrate schema %s: lock: %w", schema, err)
	}
	defer func() {
		_, unlockErr := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtextextended($1, 0))", lockKey)
		if unlockErr != nil {
			// Closing the session is what releases a lock it cannot unlock.
			_ = conn.Hijack().Close(context.WithoutCancel(ctx))
		}
	}()

	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+ident); err != nil {
		return fmt.Errorf("migrate schema %s: create: %w", schema, err)
	}

	// goose works on database/sql: give it connections of its own whose
	// search_path is the schema, so pooled connections never carry it.
	cfg := pool.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["search_path"] = ident
	db := stdlib.OpenDB(*cfg)
	defer db.Close()

	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return fmt.Errorf("migrate schema %s: %w", schema, err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrate schema %s: %w", schema, err)
	}
	current, err := provider.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrate schema %s: read version: %w", schema, err)
	}
	sources := provider.ListSources()
	if len(sources) > 0 && current > sources[len(sources)-1].Version {
		return fmt.Errorf("schema %s is at version %d but this capd knows only %d migrations; use a newer capd",
			schema, current, sources[len(sources)-1].Version)
	}
	if _, err := provider.Up(ctx); err != nil {
		var partial *goose.PartialError
		if errors.As(err, &partial) && partial.Failed != nil && partial.Failed.Source != nil {
			return fmt.Errorf("migrate schema %s: %s: %w", schema, partial.Failed.Source.Path, partial.Err)
		}
		return fmt.Errorf("migrate schema %s: %w", schema, err)
	}
	return nil
}
