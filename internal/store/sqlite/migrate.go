package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// migrations holds the schema of both kinds of database, one ordered
// directory each. They are embedded so the binary alone can create and
// upgrade a data directory.
//
//go:embed migrations/control/*.sql migrations/tenant/*.sql
var migrations embed.FS

// Migration directories inside migrations.
const (
	controlMigrations = "migrations/control"
	tenantMigrations  = "migrations/tenant"
)

// migrate brings the database to the newest version in dir of fsys.
//
// Files are named NNNN_description.sql and numbered from 0001 without gaps;
// file N moves the database from user_version N-1 to N. Each file runs in
// its own immediate transaction together with its user_version bump, so a
// failing file leaves the database at the previous version, and a second
// process migrating at the same time waits for the lock and then finds the
// work done.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS, dir string) error {
	files, err := migrationFiles(fsys, dir)
	if err != nil {
		return err
	}
	for {
		done, err := migrateOne(ctx, db, fsys, dir, files)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next pending migration, if any, and reports whether
// the database is already at the newest version.
func migrateOne(ctx context.Context, db *sql.DB, fsys fs.FS, dir string, files []string) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()

	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	switch {
	case version > len(files):
		return false, fmt.Errorf("database schema is at version %d but this capd knows only %d migrations; use a newer capd", version, len(files))
	case version == len(files):
		return true, tx.Commit()
	}

	name := files[version]
	body, err := fs.ReadFile(fsys, path.Join(dir, name))
	if err != nil {
		return false, fmt.Errorf("migration %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return false, fmt.Errorf("migration %s: %w", name, err)
	}
	// PRAGMA takes no parameters; the value is our own integer, not input.
	if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(version+1)); err != nil {
		return false, fmt.Errorf("migration %s: set schema version: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %s: commit: %w", name, err)
	}
	return false, nil
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
