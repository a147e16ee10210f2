package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// connect opens a connection to dsn that closes when t ends.
func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func TestDSN(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		conn := connect(t, pgtest.DSN(t))
		_, err := conn.Exec(ctx, "CREATE TABLE things (id int PRIMARY KEY, name text NOT NULL)")
		require.NoError(t, err)
		_, err = conn.Exec(ctx, "INSERT INTO things VALUES (1, 'one')")
		require.NoError(t, err)
		var name string
		require.NoError(t, conn.QueryRow(ctx, "SELECT name FROM things WHERE id = 1").Scan(&name))
		require.Equal(t, "one", name)
	})

	t.Run("IsolatedDatabases", func(t *testing.T) {
		dsnA, dsnB := pgtest.DSN(t), pgtest.DSN(t)
		require.NotEqual(t, dsnA, dsnB)
		a, b := connect(t, dsnA), connect(t, dsnB)
		_, err := a.Exec(ctx, "CREATE TABLE only_in_a (id int)")
		require.NoError(t, err)

		var dbA, dbB string
		require.NoError(t, a.QueryRow(ctx, "SELECT current_database()").Scan(&dbA))
		require.NoError(t, b.QueryRow(ctx, "SELECT current_database()").Scan(&dbB))
		require.NotEqual(t, dbA, dbB)

		var exists bool
		require.NoError(t, b.QueryRow(ctx, "SELECT to_regclass('only_in_a') IS NOT NULL").Scan(&exists))
		require.False(t, exists, "a table created in one test database is visible in another")
	})

	t.Run("DroppedAfterTest", func(t *testing.T) {
		var name string
		var leaked *pgx.Conn
		t.Run("Inner", func(t *testing.T) {
			// Left open until after the test on purpose: cleanup must
			// drop the database anyway.
			conn, err := pgx.Connect(ctx, pgtest.DSN(t))
			require.NoError(t, err)
			require.NoError(t, conn.QueryRow(ctx, "SELECT current_database()").Scan(&name))
			leaked = conn
		})
		defer leaked.Close(ctx)
		admin := connect(t, pgtest.DSN(t))
		var n int
		require.NoError(t, admin.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n))
		require.Zero(t, n, "database %s outlives its test", name)
	})
}
