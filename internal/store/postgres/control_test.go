package postgres

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/pgtest"
	"github.com/capd-dev/capd/internal/store/sqlite"
)

// The control store's behaviour is the shared suite's (storetest, run by
// TestStoreSuite); these tests cover what is particular to PostgreSQL: the
// control schema's migrations, its CHECKs, and the stored form of keys.

// openControl opens a DB on a fresh database and returns its control
// store; the DB closes when t ends.
func openControl(t *testing.T) *Control {
	t.Helper()
	db, err := Open(context.Background(), pgtest.DSN(t), Options{})
	require.NoError(t, err)
	t.Cleanup(db.Close)
	return db.Control()
}

func TestOpen(t *testing.T) {
	ctx := context.Background()

	t.Run("OKMigratesControlSchemaOnce", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		for range 2 {
			db, err := Open(ctx, dsn, Options{})
			require.NoError(t, err)
			var version int64
			require.NoError(t, db.pool.QueryRow(ctx,
				"SELECT max(version_id) FROM capd_control.goose_db_version WHERE is_applied").Scan(&version))
			require.EqualValues(t, 6, version, "goose's version table lives in the control schema")
			var public int
			require.NoError(t, db.pool.QueryRow(ctx,
				"SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&public))
			require.Zero(t, public, "nothing lands in the public schema")
			db.Close()
		}
	})

	t.Run("OKConcurrentNodes", func(t *testing.T) {
		// Several nodes starting at once on an empty database: one
		// migrates, the others wait for it and find the work done.
		dsn := pgtest.DSN(t)
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				db, err := Open(ctx, dsn, Options{})
				if err == nil {
					db.Close()
				}
				errs <- err
			}()
		}
		for range 4 {
			require.NoError(t, <-errs)
		}
	})

	t.Run("ErrNewerSchema", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		db, err := Open(ctx, dsn, Options{})
		require.NoError(t, err)
		_, err = db.pool.Exec(ctx, "INSERT INTO capd_control.goose_db_version (version_id, is_applied) VALUES (9999, true)")
		require.NoError(t, err)
		db.Close()
		_, err = Open(ctx, dsn, Options{})
		require.ErrorContains(t, err, "use a newer capd")
	})

	t.Run("ErrBadDSN", func(t *testing.T) {
		_, err := Open(ctx, "postgres://127.0.0.1:1/nothing?connect_timeout=2", Options{})
		require.Error(t, err)
	})
}

// TestControlSchemaChecks: the control schema's CHECKs hold the rules the
// store checks before writing, for rows written around the store.
func TestControlSchemaChecks(t *testing.T) {
	ctx := context.Background()
	control := openControl(t)
	require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))

	t.Run("ErrTenantSlug", func(t *testing.T) {
		_, err := control.pool.Exec(ctx, "INSERT INTO capd_control.tenants (slug, name, created_at) VALUES ('Bad.Slug', '', now())")
		require.ErrorContains(t, err, "check constraint")
	})

	t.Run("ErrSetName", func(t *testing.T) {
		_, err := control.pool.Exec(ctx, `INSERT INTO capd_control.capability_sets
			(owner, name, description, is_public, members, source, tags, created_by, created_at, updated_at)
			VALUES ('acme', 'Bad_Name', '', false, '[]', '', '[]', '', now(), now())`)
		require.ErrorContains(t, err, "check constraint")
	})

	t.Run("ErrSetMembersNotAnArray", func(t *testing.T) {
		_, err := control.pool.Exec(ctx, `INSERT INTO capd_control.capability_sets
			(owner, name, description, is_public, members, source, tags, created_by, created_at, updated_at)
			VALUES ('acme', 'objecty', '', false, '{}', '', '[]', '', now(), now())`)
		require.ErrorContains(t, err, "check constraint")
	})
}

// TestControlStoresTokenHashOnly: a key's row holds SHA-256 of its token,
// never the token, as in the SQLite store.
func TestControlStoresTokenHashOnly(t *testing.T) {
	ctx := context.Background()
	control := openControl(t)
	require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	token, key, err := control.CreateKey(ctx, "acme", capability.AllScopes, time.Time{})
	require.NoError(t, err)
	var hash []byte
	require.NoError(t, control.pool.QueryRow(ctx, "SELECT secret_hash FROM capd_control.api_keys WHERE prefix = $1", key.Prefix).Scan(&hash))
	sum := sha256.Sum256([]byte(token))
	require.Equal(t, sum[:], hash)
}

// TestControlTokenCompatibleWithSQLite: a key made by the SQLite store,
// moved as its stored row (prefix, hash, scopes), authenticates against
// this store, so capd migrate can move keys without reissuing them.
func TestControlTokenCompatibleWithSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	lite, err := sqlite.Open(ctx, sqlite.Options{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, lite.Control().CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	token, key, err := lite.Control().CreateKey(ctx, "acme", capability.AllScopes, time.Time{})
	require.NoError(t, err)
	require.NoError(t, lite.Close())

	raw, err := sql.Open("sqlite", filepath.Join(dir, "control.db"))
	require.NoError(t, err)
	defer raw.Close()
	var hash []byte
	var scopes string
	require.NoError(t, raw.QueryRowContext(ctx, "SELECT secret_hash, scopes FROM api_keys WHERE prefix = ?", key.Prefix).Scan(&hash, &scopes))

	control := openControl(t)
	require.NoError(t, control.CreateTenant(ctx, &capability.Tenant{Slug: "acme"}))
	_, err = control.pool.Exec(ctx, `INSERT INTO capd_control.api_keys (prefix, tenant, secret_hash, scopes, created_at)
		VALUES ($1, 'acme', $2, string_to_array($3, ','), now())`, key.Prefix, hash, scopes)
	require.NoError(t, err)

	p, err := control.Authenticate(ctx, token)
	require.NoError(t, err)
	require.Equal(t, "acme", p.Tenant)
	require.Equal(t, key.Scopes, p.Scopes)
}
