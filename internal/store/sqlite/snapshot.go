package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
)

// CopyTenant writes a consistent copy of slug's database to path (which must
// not exist) with VACUUM INTO. It reads through a connection of its own (the
// reader pool is query-only, which SQLite applies to VACUUM INTO too), so
// the tenant keeps serving reads and writes while the copy is made.
// Conformance runs use it so they never touch a tenant's live data.
func (t *Tenants) CopyTenant(ctx context.Context, slug, path string) error {
	if _, err := t.Tenant(ctx, slug); err != nil {
		return err
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("copy tenant %s: %s already exists", slug, path)
	}
	// Holding the handle keeps the LRU from closing the live database (and
	// checkpointing its WAL) in the middle of the copy.
	h, err := t.cache.acquire(ctx, slug)
	if err != nil {
		return err
	}
	defer t.cache.release(h)
	conn, err := sql.Open("sqlite", dsn(t.path(slug), "_pragma=busy_timeout(5000)"))
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("copy tenant %s: %w", slug, err)
	}
	return nil
}
