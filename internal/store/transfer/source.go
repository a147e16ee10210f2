package transfer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/pressly/goose/v3"

	"github.com/capd-dev/capd/internal/store/sqlite"
	"github.com/capd-dev/capd/internal/store/storecore"
)

// Source is a SQLite data directory opened for reading only. Its files are
// opened with mode=ro, so nothing capd migrate does can change them; each
// database is read in one read transaction at a time, which sees one
// consistent snapshot even if a capd process were writing it.
//
// A database last opened by an older capd (a tenant not used since an
// upgrade, say) is not read in place: it is copied with VACUUM INTO to a
// temporary directory and the copy is upgraded with this capd's
// migrations, so what moves is what this capd would read, and the source
// stays as it was.
type Source struct {
	dir            string
	control        *sql.DB
	controlVersion int // user_version an up-to-date file carries
	tenantVersion  int

	mu       sync.Mutex
	tmp      string            // temporary directory of upgraded copies; "" until needed
	files    map[string]string // slug -> file to read; "" when the tenant has no database
	upgraded []string          // the source files read from an upgraded copy
}

// OpenSource opens the data directory dir for reading. dir must hold a
// control.db; nothing is created or changed in it.
func OpenSource(ctx context.Context, dir string) (*Source, error) {
	info, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("data directory %s does not exist", dir)
		}
		return nil, err
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	controlPath := sqlite.ControlPath(dir)
	if _, err := os.Stat(controlPath); err != nil {
		return nil, fmt.Errorf("%s has no control.db, so it is not a capd data directory", dir)
	}
	cv, tv, err := sqlite.SchemaVersions()
	if err != nil {
		return nil, err
	}
	s := &Source{dir: dir, controlVersion: cv, tenantVersion: tv, files: map[string]string{}}
	path, err := s.current(ctx, controlPath, "control.db", false)
	if err != nil {
		s.Close()
		return nil, err
	}
	if s.control, err = sqlite.OpenReadOnly(path); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Dir returns the data directory.
func (s *Source) Dir() string { return s.dir }

// Upgraded returns the source files (relative to the data directory) that
// an older capd last wrote and that were therefore read from an upgraded
// copy.
func (s *Source) Upgraded() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.upgraded)
}

// Close closes the databases and removes the upgraded copies.
func (s *Source) Close() error {
	var err error
	if s.control != nil {
		err = s.control.Close()
	}
	if s.tmp != "" {
		err = errors.Join(err, os.RemoveAll(s.tmp))
	}
	return err
}

// current returns the file to read for the database at path (named name
// in messages): path itself when it carries this capd's schema version, or
// an upgraded copy when it is older. A newer file is an error: this capd
// cannot know what its new columns mean.
func (s *Source) current(ctx context.Context, path, name string, tenant bool) (string, error) {
	want := s.controlVersion
	if tenant {
		want = s.tenantVersion
	}
	db, err := sqlite.OpenReadOnly(path)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", name, err)
	}
	var version int
	err = db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version)
	db.Close()
	if err != nil {
		return "", fmt.Errorf("read %s: %w", name, err)
	}
	switch {
	case version == want:
		return path, nil
	case version > want:
		return "", fmt.Errorf("%s is at schema version %d, but this capd knows only %d; migrate with the capd release that wrote it", name, version, want)
	}
	s.mu.Lock()
	if s.tmp == "" {
		if s.tmp, err = os.MkdirTemp("", "capd-migrate-"); err != nil {
			s.mu.Unlock()
			return "", err
		}
	}
	copyPath := filepath.Join(s.tmp, strings.ReplaceAll(name, "/", "_"))
	s.mu.Unlock()
	if err := sqlite.SnapshotFile(ctx, path, copyPath); err != nil {
		return "", err
	}
	if err := sqlite.UpgradeFile(ctx, copyPath, tenant); err != nil {
		return "", fmt.Errorf("upgrade a copy of %s (schema version %d) to version %d: %w", name, version, want, err)
	}
	s.mu.Lock()
	s.upgraded = append(s.upgraded, name)
	s.mu.Unlock()
	return copyPath, nil
}

// tenantFile returns the database file to read for tenant slug, or "" when
// the tenant has none yet (a tenant's database is created on its first
// use). It checks and, if need be, upgrades the file once per Source.
func (s *Source) tenantFile(ctx context.Context, slug string) (string, error) {
	s.mu.Lock()
	f, ok := s.files[slug]
	s.mu.Unlock()
	if ok {
		return f, nil
	}
	if err := storecore.ValidateSlug(slug); err != nil {
		return "", fmt.Errorf("tenant %q: %w", slug, err)
	}
	path := sqlite.TenantPath(s.dir, slug)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		f = ""
	} else if f, err = s.current(ctx, path, "tenants/"+slug+".db", true); err != nil {
		return "", err
	}
	s.mu.Lock()
	s.files[slug] = f
	s.mu.Unlock()
	return f, nil
}

// strayFiles returns the tenant database files whose name is not one of
// slugs: files capd would never open, which are not moved.
func (s *Source) strayFiles(slugs []string) ([]string, error) {
	entries, err := os.ReadDir(sqlite.TenantsDir(s.dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		slug, ok := strings.CutSuffix(e.Name(), ".db")
		if ok && !e.IsDir() && !slices.Contains(slugs, slug) {
			out = append(out, "tenants/"+e.Name())
		}
	}
	return out, nil
}

// beginControl starts a read transaction on control.db: one snapshot of
// the control data.
func (s *Source) beginControl(ctx context.Context) (*sql.Tx, error) {
	tx, err := s.control.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("read control.db: %w", err)
	}
	// A read transaction takes its snapshot at its first read; make it
	// now, and check the schema in it.
	if err := checkSQLiteSchema(ctx, tx, "control.db", ControlTables); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	return tx, nil
}

// tenantSnapshot is one read transaction on a tenant database.
type tenantSnapshot struct {
	db *sql.DB
	tx *sql.Tx
}

// beginTenant starts a read transaction on slug's database and checks its
// schema; ok is false when the tenant has no database.
func (s *Source) beginTenant(ctx context.Context, slug string) (snap *tenantSnapshot, ok bool, err error) {
	path, err := s.tenantFile(ctx, slug)
	if err != nil || path == "" {
		return nil, false, err
	}
	db, err := sqlite.OpenReadOnly(path)
	if err != nil {
		return nil, false, fmt.Errorf("open tenants/%s.db: %w", slug, err)
	}
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		db.Close()
		return nil, false, fmt.Errorf("read tenants/%s.db: %w", slug, err)
	}
	if err := checkSQLiteSchema(ctx, tx, "tenants/"+slug+".db", TenantTables); err != nil {
		_ = tx.Rollback()
		db.Close()
		return nil, false, err
	}
	return &tenantSnapshot{db: db, tx: tx}, true, nil
}

// close ends the snapshot.
func (t *tenantSnapshot) close() {
	_ = t.tx.Rollback()
	_ = t.db.Close()
}

// checkSQLiteSchema compares the tables and columns of the database q reads
// (named where) with tables.
func checkSQLiteSchema(ctx context.Context, q *sql.Tx, where string, tables []Table) error {
	rows, err := q.QueryContext(ctx, `SELECT m.name, p.name, p.type FROM sqlite_schema m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\' AND m.name <> ?`, goose.DefaultTablename)
	if err != nil {
		return fmt.Errorf("read the schema of %s: %w", where, err)
	}
	defer rows.Close()
	var catalog []schemaColumn
	for rows.Next() {
		var c schemaColumn
		if err := rows.Scan(&c.table, &c.column, &c.typ); err != nil {
			return fmt.Errorf("read the schema of %s: %w", where, err)
		}
		catalog = append(catalog, c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the schema of %s: %w", where, err)
	}
	return compareSchema(where, tables, catalog, Kind.sqliteType)
}

// sqliteSelect returns the query reading t's columns from SQLite, filtered
// by where (may be ""), in primary-key order. Keys compare as BINARY,
// which is byte order, as PostgreSQL's "C" collation.
func sqliteSelect(t Table, where string) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteSQLite(c.Name))
	}
	b.WriteString(" FROM " + quoteSQLite(t.Name))
	if where != "" {
		b.WriteString(" WHERE " + where)
	}
	b.WriteString(" ORDER BY ")
	for i, k := range t.Key {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteSQLite(k))
		if t.kind(k) != Int {
			b.WriteString(" COLLATE BINARY")
		}
	}
	return b.String()
}

// quoteSQLite quotes an identifier for SQLite; the names come from the
// table list, never from input.
func quoteSQLite(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// sqliteRows reads one table's rows from SQLite as canonical values.
type sqliteRows struct {
	rows      *sql.Rows
	table     Table
	kinds     []Kind
	where     string // the database, for errors
	raw, ptrs []any
	canon     []any
	err       error
	truncated int64 // timestamps that lost digits below a microsecond
}

// querySQLite starts reading t (filtered by cond with args) from q.
func querySQLite(ctx context.Context, q *sql.Tx, where string, t Table, cond string, args ...any) (*sqliteRows, error) {
	rows, err := q.QueryContext(ctx, sqliteSelect(t, cond), args...)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", where, t.Name, err)
	}
	r := &sqliteRows{rows: rows, table: t, kinds: t.kinds(), where: where}
	r.raw = make([]any, len(t.Columns))
	r.ptrs = make([]any, len(t.Columns))
	for i := range r.raw {
		r.ptrs[i] = &r.raw[i]
	}
	r.canon = make([]any, len(t.Columns))
	return r, nil
}

// next advances to the next row, converted into r.canon; false at the end
// or on an error, which err then returns.
func (r *sqliteRows) next() bool {
	if r.err != nil || !r.rows.Next() {
		return false
	}
	if err := r.rows.Scan(r.ptrs...); err != nil {
		r.err = fmt.Errorf("read %s %s: %w", r.where, r.table.Name, err)
		return false
	}
	for i, k := range r.kinds {
		v, truncated, err := fromSQLite(k, r.raw[i])
		if err != nil {
			r.err = fmt.Errorf("%s %s row %s: column %s: %w", r.where, r.table.Name, rowKey(r.table, r.raw), r.table.Columns[i].Name, err)
			return false
		}
		if truncated {
			r.truncated++
		}
		r.canon[i] = v
	}
	return true
}

// close releases the rows and returns the first error of the read.
func (r *sqliteRows) close() error {
	closeErr := r.rows.Close()
	if r.err != nil {
		return r.err
	}
	if err := r.rows.Err(); err != nil {
		return fmt.Errorf("read %s %s: %w", r.where, r.table.Name, err)
	}
	return closeErr
}

// rowKey describes a row by its primary key, for error messages.
func rowKey(t Table, raw []any) string {
	var parts []string
	for _, k := range t.Key {
		for i, c := range t.Columns {
			if c.Name == k {
				parts = append(parts, fmt.Sprintf("%s=%v", k, raw[i]))
			}
		}
	}
	return strings.Join(parts, ",")
}
