package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/pressly/goose/v3"
	goosedb "github.com/pressly/goose/v3/database"
)

// migrations holds the schema of both kinds of database, one ordered goose
// directory each, with the same file names and versions as the PostgreSQL
// store's. They are embedded so the binary alone can create and upgrade a
// data directory.
//
//go:embed migrations/control/*.sql migrations/tenant/*.sql
var migrations embed.FS

// Migration directories inside migrations.
const (
	controlMigrations = "migrations/control"
	tenantMigrations  = "migrations/tenant"
)

// gooseTable is goose's version table: one row per applied version, plus
// goose's own row for version 0.
const gooseTable = goose.DefaultTablename

// migrate brings the database behind db, a writer pool of one connection, to
// the newest version in dir of fsys, running the files with goose.
//
// Files are named NNNN_description.sql, are goose files (-- +goose Up) and
// are numbered from 0001 without gaps: goose itself allows gaps, but a
// database from before goose records only a count (see adopt), which names
// versions only while they are 1..N.
//
// Besides goose's version table, the database keeps PRAGMA user_version
// equal to its newest applied version, written in the same transaction as
// the migrations. openDatabase reads it on a reader to find a database that
// needs nothing without a write lock or a query of goose's.
//
// Two processes may open the same new database at once (the server and the
// CLI, or two servers on a shared directory). goose reads the applied
// versions and then runs each file in a transaction of its own, so two
// racing runs would both apply 0001 and one would fail on "table already
// exists"; goose's own lockers are for PostgreSQL and MySQL. The whole run
// therefore happens inside one BEGIN IMMEDIATE transaction on the writer's
// connection, and goose's transactions become savepoints inside it (see
// savepointConn). The second process waits for the write lock, under the
// busy timeout, and then reads versions that include the first one's work.
// This uses SQLite's own file locking, so unlike a flock on a sibling file
// it adds no file beside each database and works wherever SQLite does. A
// file that fails rolls back to its savepoint; the files before it are
// committed, so the database stays at the previous version.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS, dir string) error {
	files, err := migrationFiles(fsys, dir)
	if err != nil {
		return err
	}
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("migrate: %T is not a driver connection", dc)
		}
		// Migration statements are run once; keeping them in the writer's
		// statement cache would only take slots from capd's own queries.
		if cc, ok := c.(*cachingConn); ok {
			c = cc.Conn
		}
		return migrateConn(ctx, c, sub, dir, len(files))
	})
}

// migrateConn runs migrate's transaction on c, whose migrations are the
// files of fsys (dir names them in errors), newest being the highest version.
func migrateConn(ctx context.Context, c driver.Conn, fsys fs.FS, dir string, newest int) error {
	sc, err := newSavepointConn(c)
	if err != nil {
		return err
	}
	if err := sc.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("lock for migration: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			// The error that got here is the one to report; SQLite may
			// already have rolled back, and a connection left in a
			// transaction is closed with the database that failed to open.
			_ = sc.exec(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()

	// goose takes a *sql.DB; this one's only connection is c, inside the
	// transaction just begun. It is closed before the commit, so nothing
	// of goose's is still running when the transaction ends.
	gdb := sql.OpenDB(&savepointConnector{conn: sc})
	gdb.SetMaxOpenConns(1)
	gdb.SetMaxIdleConns(1)
	applyErr, err := runGoose(ctx, gdb, fsys, dir, newest)
	if closeErr := gdb.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return err
	}
	if err := sc.exec(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("commit migrations: %w", err)
	}
	committed = true
	return applyErr
}

// runGoose checks the database's version, adopts a database from before
// goose, applies the pending files and stamps user_version with the version
// reached. A failing file is returned as applyErr, with err nil, so that the
// files before it are committed; err means nothing is to be committed.
func runGoose(ctx context.Context, db *sql.DB, fsys fs.FS, dir string, newest int) (applyErr, err error) {
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	if version > newest {
		return nil, newerDatabaseError(int64(version), newest)
	}
	store, err := goosedb.NewStore(goosedb.DialectSQLite3, gooseTable)
	if err != nil {
		return nil, err
	}
	var tracked bool
	if err := db.QueryRowContext(ctx,
		"SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?)", gooseTable,
	).Scan(&tracked); err != nil {
		return nil, fmt.Errorf("look for %s: %w", gooseTable, err)
	}
	if !tracked && version > 0 {
		if err := adopt(ctx, db, store, version); err != nil {
			return nil, err
		}
	}

	provider, err := goose.NewProvider(goose.DialectCustom, db, fsys,
		goose.WithStore(store), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, err
	}
	// goose creates its version table here on a new database.
	current, err := provider.GetDBVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("read goose version: %w", err)
	}
	if current > int64(newest) {
		return nil, newerDatabaseError(current, newest)
	}
	if _, err := provider.Up(ctx); err != nil {
		var partial *goose.PartialError
		if !errors.As(err, &partial) || partial.Failed == nil || partial.Failed.Source == nil {
			return nil, err
		}
		applyErr = fmt.Errorf("migration %s: %w", path.Join(dir, partial.Failed.Source.Path), partial.Err)
		if current, err = provider.GetDBVersion(ctx); err != nil {
			return nil, errors.Join(applyErr, fmt.Errorf("read goose version: %w", err))
		}
	} else {
		current = int64(newest)
	}
	// PRAGMA takes no parameters; the value is our own integer, not input.
	if _, err := db.ExecContext(ctx, "PRAGMA user_version = "+strconv.FormatInt(current, 10)); err != nil {
		return nil, errors.Join(applyErr, fmt.Errorf("set schema version: %w", err))
	}
	return applyErr, nil
}

// adopt gives a database migrated by capd's runner from before goose, which
// recorded only user_version, goose's version table with versions 1 to
// version marked applied (plus goose's row for version 0), so goose applies
// only the files after them. Their timestamps are the adoption's, not the
// original migrations'.
func adopt(ctx context.Context, db *sql.DB, store goosedb.Store, version int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("adopt schema version %d: %w", version, err)
	}
	defer tx.Rollback()
	if err := store.CreateVersionTable(ctx, tx); err != nil {
		return fmt.Errorf("adopt schema version %d: %w", version, err)
	}
	for v := range version + 1 {
		if err := store.Insert(ctx, tx, goosedb.InsertRequest{Version: int64(v)}); err != nil {
			return fmt.Errorf("adopt schema version %d: %w", version, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("adopt schema version %d: %w", version, err)
	}
	return nil
}

// newerDatabaseError reports a database migrated by a newer capd, whose
// schema this one cannot know.
func newerDatabaseError(version int64, newest int) error {
	return fmt.Errorf("database schema is at version %d but this capd knows only %d migrations; use a newer capd", version, newest)
}

// migrationFiles lists the .sql files of dir in order and checks that they
// are numbered 1, 2, 3, ... so a missing or duplicated number is caught
// before any of them runs.
func migrationFiles(fsys fs.FS, dir string) ([]string, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var files []string
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		files = append(files, e.Name()) // ReadDir returns names sorted
	}
	for i, name := range files {
		num, _, ok := strings.Cut(name, "_")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n != i+1 {
			return nil, fmt.Errorf("migration %s: want a name starting with %04d_", path.Join(dir, name), i+1)
		}
	}
	return files, nil
}

// savepointConn is a connection already inside a transaction, as goose sees
// it: each transaction goose begins is a savepoint of the enclosing one, so
// goose keeps its all-or-nothing per file while migrate holds the write lock
// across all files. Closing it leaves the connection open: the writer pool
// owns it.
type savepointConn struct {
	conn   driver.Conn
	execer driver.ExecerContext
	query  driver.QueryerContext
	depth  int // open savepoints, to name the next one
}

var (
	_ driver.ExecerContext  = (*savepointConn)(nil)
	_ driver.QueryerContext = (*savepointConn)(nil)
	_ driver.ConnBeginTx    = (*savepointConn)(nil)
)

// newSavepointConn wraps c, which must run queries without preparing them
// first (modernc.org/sqlite's connections do).
func newSavepointConn(c driver.Conn) (*savepointConn, error) {
	execer, ok1 := c.(driver.ExecerContext)
	query, ok2 := c.(driver.QueryerContext)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("migrate: connection %T cannot run queries directly", c)
	}
	return &savepointConn{conn: c, execer: execer, query: query}, nil
}

// exec runs one statement without arguments.
func (c *savepointConn) exec(ctx context.Context, query string) error {
	_, err := c.execer.ExecContext(ctx, query, nil)
	return err
}

// Prepare prepares on the wrapped connection.
func (c *savepointConn) Prepare(query string) (driver.Stmt, error) { return c.conn.Prepare(query) }

// Close does nothing: the connection is the writer's.
func (c *savepointConn) Close() error { return nil }

// Begin begins a savepoint.
func (c *savepointConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx begins a savepoint. The options cannot apply to a savepoint: the
// enclosing transaction already fixed the locking.
func (c *savepointConn) BeginTx(ctx context.Context, _ driver.TxOptions) (driver.Tx, error) {
	name := "goose_" + strconv.Itoa(c.depth)
	if err := c.exec(ctx, "SAVEPOINT "+name); err != nil {
		return nil, err
	}
	c.depth++
	return &savepoint{c: c, name: name}, nil
}

// ExecContext runs query on the wrapped connection.
func (c *savepointConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.execer.ExecContext(ctx, query, args)
}

// QueryContext runs query on the wrapped connection.
func (c *savepointConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.query.QueryContext(ctx, query, args)
}

// savepoint is one of goose's transactions inside migrate's.
type savepoint struct {
	c    *savepointConn
	name string
}

// Commit releases the savepoint: its work joins the enclosing transaction.
func (s *savepoint) Commit() error {
	s.c.depth--
	return s.c.exec(context.Background(), "RELEASE "+s.name)
}

// Rollback undoes the savepoint's work and then releases it; ROLLBACK TO
// alone would leave it open.
func (s *savepoint) Rollback() error {
	s.c.depth--
	return errors.Join(
		s.c.exec(context.Background(), "ROLLBACK TO "+s.name),
		s.c.exec(context.Background(), "RELEASE "+s.name))
}

// savepointConnector hands database/sql its one connection, once: should
// database/sql drop it and ask again, the enclosing transaction is in an
// unknown state, and the migration fails instead.
type savepointConnector struct {
	conn *savepointConn
	used atomic.Bool
}

// Connect returns the connection the first time and fails after.
func (s *savepointConnector) Connect(context.Context) (driver.Conn, error) {
	if s.used.Swap(true) {
		return nil, errors.New("migrate: lost the migration connection")
	}
	return s.conn, nil
}

// Driver returns capd's SQLite driver; database/sql needs one but never
// opens through it here.
func (s *savepointConnector) Driver() driver.Driver { return sqliteDriver }
