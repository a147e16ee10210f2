package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
)

// This file serves tools that read a data directory without serving it,
// such as capd migrate, which moves a data directory into PostgreSQL. They
// need the files themselves (a read-only handle, the schema version a file
// should carry) rather than the stores, which open files read-write,
// create what is missing and migrate on open.

// ControlPath returns the control database file of the data directory dir.
func ControlPath(dir string) string { return filepath.Join(dir, "control.db") }

// TenantsDir returns the directory holding the tenant databases of dir.
func TenantsDir(dir string) string { return filepath.Join(dir, "tenants") }

// TenantPath returns the database file of tenant slug in the data directory
// dir. The file may not exist: a tenant's database is created on its first
// use.
func TenantPath(dir, slug string) string { return filepath.Join(TenantsDir(dir), slug+".db") }

// SchemaVersions returns the user_version of an up-to-date control database
// and of an up-to-date tenant database: the number of migrations this capd
// has for each. A file below it was last opened by an older capd; a file
// above it was written by a newer one.
func SchemaVersions() (control, tenant int, err error) {
	cf, err := migrationFiles(migrations, controlMigrations)
	if err != nil {
		return 0, 0, err
	}
	tf, err := migrationFiles(migrations, tenantMigrations)
	if err != nil {
		return 0, 0, err
	}
	return len(cf), len(tf), nil
}

// readOnlyParams open a file read-only (mode=ro: SQLite opens the file
// without write access, so no statement can change it) and wait for a
// writer's lock rather than fail. The WAL index (-shm) is still updated as
// by any reader: it holds locks and an index of the WAL, not data.
const readOnlyParams = "mode=ro&_pragma=busy_timeout(5000)"

// OpenReadOnly opens the existing database file at path for reading only,
// through a connection pool of its own. A missing file is an error; nothing
// is created. Each read transaction sees one consistent snapshot, even while
// a capd process writes the file.
func OpenReadOnly(path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	// query_only as well: mode=ro already refuses writes, and this makes
	// the refusal not depend on the file's permissions.
	db, err := sql.Open("sqlite", dsn(path, readOnlyParams+"&_pragma=query_only(1)"))
	if err != nil {
		return nil, err
	}
	return db, nil
}

// SnapshotFile writes a consistent copy of the database at path to dst,
// which must not exist, with VACUUM INTO, reading path read-only. A tool
// that must change a database it may not write (UpgradeFile) works on such
// a copy.
func SnapshotFile(ctx context.Context, path, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("snapshot %s: %s already exists", path, dst)
	}
	if _, err := os.Stat(path); err != nil {
		return err
	}
	// Not query_only: SQLite counts VACUUM INTO as a write there, though
	// it writes only dst. mode=ro still keeps path itself unchanged.
	db, err := sql.Open("sqlite", dsn(path, readOnlyParams))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	return nil
}

// UpgradeFile applies this capd's migrations to the database file at path,
// a control database or, with tenant set, a tenant database. It is meant
// for a copy made with SnapshotFile: a data directory's own files upgrade
// themselves when capd opens them.
func UpgradeFile(ctx context.Context, path string, tenant bool) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	p, dir := controlPool, controlMigrations
	if tenant {
		p, dir = tenantPool, tenantMigrations
	}
	d, err := openDatabase(ctx, path, p, migrations, dir)
	if err != nil {
		return err
	}
	return d.close()
}
