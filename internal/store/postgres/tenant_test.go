package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/pgtest"
)

// TestTenantStores covers what is particular to PostgreSQL in opening
// tenants: one schema per tenant, created and migrated on first use, by one
// node at a time, and never for an unknown or malformed slug. The tenant
// stores' behaviour is the shared suite's (storetest, run by
// TestStoreSuite).
func TestTenantStores(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	db, err := Open(ctx, dsn, Options{})
	require.NoError(t, err)
	t.Cleanup(db.Close)
	schemas := func(t *testing.T) []string {
		t.Helper()
		rows, err := db.pool.Query(ctx, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\_%' ORDER BY nspname")
		require.NoError(t, err)
		var out []string
		for rows.Next() {
			var name string
			require.NoError(t, rows.Scan(&name))
			out = append(out, name)
		}
		require.NoError(t, rows.Err())
		return out
	}

	t.Run("OKSchemaPerTenantOnFirstUse", func(t *testing.T) {
		for _, slug := range []string{"acme", "switchback-engineering"} {
			require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: slug}))
		}
		require.Empty(t, schemas(t), "creating a tenant creates no schema")
		for _, slug := range []string{"acme", "switchback-engineering"} {
			s, err := db.Tenants().Tenant(ctx, slug)
			require.NoError(t, err)
			require.NoError(t, s.Update(ctx, func(tx capability.Tx) error {
				return tx.CreateProject(ctx, &capability.Project{Name: "In " + slug})
			}))
		}
		require.Equal(t, []string{"tenant_acme", "tenant_switchback-engineering"}, schemas(t))
		var tables int
		require.NoError(t, db.pool.QueryRow(ctx,
			"SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'projects'", TenantSchema("switchback-engineering")).Scan(&tables))
		require.Equal(t, 1, tables, "the tenant's tables are in its own schema")
	})

	t.Run("ErrUnknownOrMalformedCreatesNoSchema", func(t *testing.T) {
		_, err := db.Tenants().Tenant(ctx, "nobody")
		require.ErrorIs(t, err, capability.ErrNotFound)
		for _, slug := range []string{"", "A", `x"; DROP SCHEMA capd_control CASCADE; --`, "a/b"} {
			_, err := db.Tenants().Tenant(ctx, slug)
			require.Equal(t, capability.CodeInvalidInput, capability.ErrorCode(err), "slug %q", slug)
		}
		require.Equal(t, []string{"tenant_acme", "tenant_switchback-engineering"}, schemas(t))
	})

	t.Run("OKConcurrentFirstUseOnTwoNodes", func(t *testing.T) {
		// A second DB on the same database stands for a second node.
		node2, err := Open(ctx, dsn, Options{})
		require.NoError(t, err)
		defer node2.Close()
		require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: "busy"}))
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := range 20 {
			node := db
			if i%2 == 1 {
				node = node2
			}
			wg.Go(func() {
				s, err := node.Tenants().Tenant(ctx, "busy")
				if err == nil {
					err = s.Update(ctx, func(tx capability.Tx) error {
						return tx.CreateStaff(ctx, &capability.Staff{Name: fmt.Sprint("s", i)})
					})
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		s, err := db.Tenants().Tenant(ctx, "busy")
		require.NoError(t, err)
		require.NoError(t, s.View(ctx, func(tx capability.Tx) error {
			staff, err := tx.FindStaff(ctx, capability.StaffFilter{Page: capability.Page{Limit: 100}})
			require.NoError(t, err)
			require.Len(t, staff, 20)
			return nil
		}))
	})
}
