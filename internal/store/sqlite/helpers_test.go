package sqlite

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"modernc.org/sqlite"

	"github.com/capd-dev/capd/internal/capability"
)

// testEpoch is the fake clock's start: a time with a non-UTC zone and a
// nanosecond part, so tests catch timestamps that lose either.
var testEpoch = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.FixedZone("CET", 3600))

// fakeClock ticks one millisecond per reading, so every timestamp is
// distinct, ordered and predictable.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: testEpoch} }

// Now returns the current fake time and advances it.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.t
	c.t = c.t.Add(time.Millisecond)
	return now
}

// openTestDB opens a fresh data directory with a fake clock and closes it
// when the test ends. opts may set anything but Dir and Now.
func openTestDB(t testing.TB, opts Options) *DB {
	t.Helper()
	clock := newFakeClock()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	db, err := Open(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

// createTenant registers slug and returns its store.
func createTenant(t testing.TB, db *DB, slug string) capability.TenantStore {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: slug}))
	store, err := db.Tenants().Tenant(ctx, slug)
	require.NoError(t, err)
	return store
}

// update runs fn in a write transaction and requires it to succeed.
func update(t testing.TB, s capability.TenantStore, fn func(capability.Tx) error) {
	t.Helper()
	require.NoError(t, s.Update(context.Background(), fn))
}

// view runs fn in a read transaction and requires it to succeed.
func view(t testing.TB, s capability.TenantStore, fn func(capability.Tx) error) {
	t.Helper()
	require.NoError(t, s.View(context.Background(), fn))
}

// mustCreateProject creates a project named name and returns it.
func mustCreateProject(t testing.TB, s capability.TenantStore, name string) *capability.Project {
	t.Helper()
	p := &capability.Project{Name: name, Description: "about " + name}
	update(t, s, func(tx capability.Tx) error { return tx.CreateProject(context.Background(), p) })
	return p
}

// fileExists reports whether path exists.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// sqliteCode returns SQLite's extended result code carried by err, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}
