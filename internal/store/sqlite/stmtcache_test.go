package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStatementCache: queries run through prepared statements kept per
// connection, a statement whose rows are still open is not reused under
// them, scripts run whole, and the cache stays bounded.
func TestStatementCache(t *testing.T) {
	ctx := context.Background()
	db := openDB(dsn(filepath.Join(t.TempDir(), "cache.db"), writerParams))
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)

	t.Run("OKScriptRunsWhole", func(t *testing.T) {
		_, err := db.ExecContext(ctx, "CREATE TABLE t (n INTEGER PRIMARY KEY, s TEXT); INSERT INTO t VALUES (1, 'one'); INSERT INTO t VALUES (2, 'two');")
		require.NoError(t, err)
		var n int
		require.NoError(t, db.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n))
		assert.Equal(t, 2, n)
	})

	t.Run("OKReusedWithNewArguments", func(t *testing.T) {
		for i := 3; i < 10; i++ {
			_, err := db.ExecContext(ctx, "INSERT INTO t VALUES (?, ?)", i, fmt.Sprint("n", i))
			require.NoError(t, err)
		}
		for i := 3; i < 10; i++ {
			var s string
			require.NoError(t, db.QueryRowContext(ctx, "SELECT s FROM t WHERE n = ?", i).Scan(&s))
			assert.Equal(t, fmt.Sprint("n", i), s)
		}
		conn := cachedConnOf(t, db)
		assert.Contains(t, conn.stmts, "SELECT s FROM t WHERE n = ?")
		assert.Contains(t, conn.stmts, "INSERT INTO t VALUES (?, ?)")
	})

	t.Run("OKNestedSameQuery", func(t *testing.T) {
		// Iterating a query while running the same text again in the same
		// transaction must not reset the outer iteration.
		tx, err := db.BeginTx(ctx, nil)
		require.NoError(t, err)
		defer tx.Rollback()
		const q = "SELECT n FROM t WHERE n <= ? ORDER BY n"
		outer, err := tx.QueryContext(ctx, q, 3)
		require.NoError(t, err)
		var seen []int
		for outer.Next() {
			var n int
			require.NoError(t, outer.Scan(&n))
			seen = append(seen, n)
			inner, err := tx.QueryContext(ctx, q, 2)
			require.NoError(t, err)
			count := 0
			for inner.Next() {
				count++
			}
			require.NoError(t, inner.Close())
			assert.Equal(t, 2, count)
		}
		require.NoError(t, outer.Err())
		require.NoError(t, outer.Close())
		assert.Equal(t, []int{1, 2, 3}, seen)
	})

	t.Run("OKErrorLeavesStatementUsable", func(t *testing.T) {
		_, err := db.ExecContext(ctx, "INSERT INTO t VALUES (?, ?)", 1, "duplicate")
		require.Error(t, err)
		_, err = db.ExecContext(ctx, "INSERT INTO t VALUES (?, ?)", 100, "fine")
		require.NoError(t, err)
	})

	t.Run("OKBounded", func(t *testing.T) {
		for i := 0; i < 2*maxCachedStatements; i++ {
			var n int
			require.NoError(t, db.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) + %d FROM t", i)).Scan(&n))
			assert.Equal(t, 10+i, n)
		}
		assert.LessOrEqual(t, len(cachedConnOf(t, db).stmts), maxCachedStatements)
	})
}

// cachedConnOf returns db's connection (db holds at most one).
func cachedConnOf(t *testing.T, db *sql.DB) *cachingConn {
	t.Helper()
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	var c *cachingConn
	require.NoError(t, conn.Raw(func(dc any) error {
		c = dc.(*cachingConn)
		return nil
	}))
	return c
}
