package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/capd-dev/capd/internal/store/storecore"
)

// This file serves bulk tools that fill a database outside the stores,
// such as capd migrate, which copies a SQLite data directory in with COPY.
// The stores write one row per statement inside their own transactions and
// create a tenant's schema only once the tenant exists; a bulk copy needs
// the pool for COPY in its own transactions, and the schema before the
// tenant row, so that the row and every table of the tenant commit together.

// Pool returns the DB's connection pool. Everything else goes through the
// stores; a bulk tool uses it to copy rows with COPY in transactions of its
// own.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// PrepareTenantSchema creates slug's schema if it is missing and brings it
// to the newest migration, whether or not the control schema lists the
// tenant yet. An empty, migrated schema is what Tenants.Tenant would create
// on the tenant's first use, so one left behind by a failed copy is
// harmless: it is reused by the next attempt or by the tenant's first use.
func (db *DB) PrepareTenantSchema(ctx context.Context, slug string) error {
	if err := storecore.ValidateSlug(slug); err != nil {
		return err
	}
	return migrateSchema(ctx, db.pool, TenantSchema(slug), tenantMigrations)
}
