package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"

	"modernc.org/sqlite"
)

// sqliteDriver is capd's own instance of the SQLite driver, so that its
// connection hook applies to capd's databases and not to every "sqlite"
// connection in the process.
var sqliteDriver = func() *sqlite.Driver {
	d := &sqlite.Driver{}
	d.RegisterConnectionHook(keepWALFiles)
	return d
}()

// keepWALFiles asks SQLite to keep a database's -wal and -shm files when its
// last connection closes, instead of deleting them. The WAL is still
// checkpointed into the database file and, with journal_size_limit set,
// truncated to zero bytes, so the database file alone still holds all of a
// closed tenant's data. What it saves is the file system work of creating
// and unlinking both files on every open and close, which on ext4 was about
// 0.2 ms per created file (measured): a third of a cold tenant open, paid
// again on every LRU eviction.
func keepWALFiles(conn sqlite.ExecQuerierContext, _ string) error {
	fc, ok := conn.(sqlite.FileControl)
	if !ok {
		return errors.New("sqlite connection has no file control; cannot keep WAL files")
	}
	_, err := fc.FileControlPersistWAL("main", 1)
	return err
}

// openDB returns a pool of connections to dsn made by sqliteDriver, each
// keeping its prepared statements (see cachingConn). Like sql.Open it
// connects lazily.
func openDB(dsn string) *sql.DB { return sql.OpenDB(connector{dsn: dsn}) }

// connector connects to one DSN through sqliteDriver.
type connector struct{ dsn string }

// Connect opens one connection, unless ctx is already done.
func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := sqliteDriver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{Conn: conn, stmts: map[string]*cachedStmt{}}, nil
}

// Driver returns sqliteDriver.
func (c connector) Driver() driver.Driver { return sqliteDriver }
