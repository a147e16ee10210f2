package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Per-connection settings. WAL lets readers run beside the one writer;
// synchronous=NORMAL keeps committed transactions across a process crash at
// a tenth of FULL's cost (the last ones may roll back on power loss);
// busy_timeout makes a second process (the CLI) wait for the lock instead of
// failing; foreign keys are off by default in SQLite and must be asked for on
// every connection. journal_size_limit trims a WAL that one large
// transaction grew beyond a normal checkpoint's size (1000 pages of 4 KiB)
// and, with the WAL files kept (see keepWALFiles), empties it on close.
const basePragmas = "_pragma=journal_mode(wal)&_pragma=synchronous(normal)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=journal_size_limit(4194304)"

// The writer begins every transaction IMMEDIATE, taking the write lock up
// front: a deferred transaction that reads and then writes fails at once with
// SQLITE_BUSY_SNAPSHOT when another connection wrote in between, whatever the
// busy timeout. Readers are query-only, so a write slipped into View fails
// instead of racing the writer.
const (
	writerParams = basePragmas + "&_txlock=immediate"
	readerParams = basePragmas + "&_pragma=query_only(1)"
)

// maxReaders bounds each database's reader pool. There is always exactly one
// writer, because many writer connections to one file collapse into busy
// back-off under contention; readers are few because each holds its own
// descriptors and page cache.
const maxReaders = 4

// pool says how many reader connections a database keeps idle and for how
// long. The control database is read on every request (Authenticate), so it
// keeps all of its readers; a tenant database keeps one, because a thousand
// open tenants times four idle readers would exhaust file descriptors.
type pool struct {
	idleReaders     int
	readerIdleLimit time.Duration // 0: keep idle readers forever
	maxPageCount    int           // the writer's max_page_count; 0: SQLite's default
}

var (
	controlPool = pool{idleReaders: maxReaders}
	tenantPool  = pool{idleReaders: 1, readerIdleLimit: time.Minute}
)

// database is one SQLite file opened as one writer connection plus a small
// read-only pool.
type database struct {
	path   string
	writer *sql.DB
	reader *sql.DB
}

// openDatabase opens the file at path (creating it if missing) and applies
// the migrations in dir of fsys before anything else reads it.
//
// The schema version is read on the reader pool, and the writer connects
// only when there is a migration to apply or, later, a first write. Each
// connection parses the whole schema and holds its own page cache and
// descriptors, so a tenant that is only read costs one connection instead
// of two: about 210 KB of resident memory and 2 descriptors instead of
// about 400 KB and 5 (measured with 500 open tenants).
func openDatabase(ctx context.Context, path string, p pool, fsys fs.FS, dir string) (*database, error) {
	files, err := migrationFiles(fsys, dir)
	if err != nil {
		return nil, err
	}
	params := writerParams
	if p.maxPageCount > 0 {
		params += fmt.Sprintf("&_pragma=max_page_count(%d)", p.maxPageCount)
	}
	writer := openDB(dsn(path, params))
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	reader := openDB(dsn(path, readerParams))
	reader.SetMaxOpenConns(maxReaders)
	reader.SetMaxIdleConns(p.idleReaders)
	reader.SetConnMaxIdleTime(p.readerIdleLimit)
	d := &database{path: path, writer: writer, reader: reader}

	// A database at the newest version needs no write lock to prove it:
	// migrate stamps user_version with the version it reached, so one
	// read answers without goose. Any other version, or a failed read,
	// goes through migrate, which checks again under the write lock and
	// reports what is wrong. A database migrated to the newest version
	// before capd used goose passes too, without goose's table: it is
	// adopted by the first open that has a migration to apply. Looking
	// for the table here as well cost about 30 µs per cold open, 4-5%
	// (measured), to fill in a table nothing reads until then.
	var version int
	if err := reader.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil || version != len(files) {
		if err := migrate(ctx, writer, fsys, dir); err != nil {
			d.close()
			return nil, fmt.Errorf("migrate %s: %w", path, err)
		}
	}
	return d, nil
}

// dsn builds a modernc.org/sqlite DSN; the path is escaped so a data
// directory containing '?' or '#' still names the right file.
func dsn(path, params string) string {
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath()}
	return u.String() + "?" + params
}

// close closes both pools. The writer closes last so that SQLite, seeing the
// last connection go, checkpoints the WAL into the database file.
func (d *database) close() error {
	return errors.Join(d.reader.Close(), d.writer.Close())
}

// view runs fn in a read-only transaction on the reader pool. It always rolls
// back: there is nothing to commit, and rolling back cannot fail in a way
// that loses data.
func (d *database) view(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	tx, err := d.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read transaction on %s: %w", d.path, err)
	}
	defer func() {
		// Rolls back on success, error and panic alike; a panic keeps
		// unwinding after this deferred call returns.
		_ = tx.Rollback()
	}()
	return fn(tx)
}

// update runs fn in an immediate write transaction on the writer and
// commits only when fn returns nil. On an error or a panic the transaction
// rolls back, so a rejected call changes nothing.
func (d *database) update(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	tx, err := d.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin write transaction on %s: %w", d.path, err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit on %s: %w", d.path, err)
	}
	committed = true
	return nil
}
