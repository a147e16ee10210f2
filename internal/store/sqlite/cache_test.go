package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// openFDs counts this process's open file descriptors, or skips the test
// where /proc is missing.
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	return len(entries)
}

// countOpens wraps the tenant opener of db to count opens per slug, with an
// optional delay that widens race windows.
func countOpens(db *DB, delay time.Duration) *sync.Map {
	var counts sync.Map
	open := db.tenants.cache.open
	db.tenants.cache.open = func(ctx context.Context, slug string) (*database, error) {
		n, _ := counts.LoadOrStore(slug, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		time.Sleep(delay)
		return open(ctx, slug)
	}
	return &counts
}

func opens(counts *sync.Map, slug string) int {
	n, ok := counts.Load(slug)
	if !ok {
		return 0
	}
	return int(n.(*atomic.Int32).Load())
}

// blockingView starts a View on store that runs before, waits until release
// is closed, runs after, and reports its result on the returned channel.
func blockingView(store capability.TenantStore, started chan<- struct{}, release <-chan struct{}, after func(capability.Tx) error) <-chan error {
	done := make(chan error, 1)
	go func() {
		done <- store.View(context.Background(), func(tx capability.Tx) error {
			close(started)
			<-release
			return after(tx)
		})
	}()
	return done
}

func TestTenantLRU(t *testing.T) {
	ctx := context.Background()

	t.Run("OKBoundedAndDataSurvivesEviction", func(t *testing.T) {
		db := openTestDB(t, Options{MaxOpenTenants: 2})
		counts := countOpens(db, 0)
		projects := map[string]*capability.Project{}
		var slugs []string
		for i := range 5 {
			slug := fmt.Sprintf("tenant-%d", i)
			slugs = append(slugs, slug)
			projects[slug] = mustCreateProject(t, createTenant(t, db, slug), "Project of "+slug)
			require.LessOrEqual(t, db.Tenants().OpenCount(), 2)
		}
		for _, slug := range slugs {
			store, err := db.Tenants().Tenant(ctx, slug)
			require.NoError(t, err)
			view(t, store, func(tx capability.Tx) error {
				got, err := tx.FindProjectByID(ctx, projects[slug].ID)
				require.NoError(t, err)
				require.Equal(t, projects[slug], got)
				return nil
			})
			require.LessOrEqual(t, db.Tenants().OpenCount(), 2)
			require.Equal(t, 2, opens(counts, slug), "opened, evicted, reopened")
		}
	})

	t.Run("OKEvictedWhileInUseClosesAfterwards", func(t *testing.T) {
		baseline := openFDs(t)
		db, err := Open(ctx, Options{Dir: t.TempDir(), MaxOpenTenants: 2})
		require.NoError(t, err)
		a, b, c := createTenant(t, db, "tenant-a"), createTenant(t, db, "tenant-b"), createTenant(t, db, "tenant-c")
		p := mustCreateProject(t, a, "Long read")

		started, release := make(chan struct{}), make(chan struct{})
		done := blockingView(a, started, release, func(tx capability.Tx) error {
			_, err := tx.FindProjectByID(ctx, p.ID) // after eviction
			return err
		})
		<-started
		aDB := liveDatabase(db, "tenant-a")

		mustCreateProject(t, b, "B")
		mustCreateProject(t, c, "C") // a is least recently used: evicted, still in use
		require.Equal(t, 3, db.Tenants().OpenCount())
		require.NoError(t, aDB.writer.Ping(), "not closed under a running transaction")

		close(release)
		require.NoError(t, <-done)
		require.Equal(t, 2, db.Tenants().OpenCount())
		require.ErrorContains(t, aDB.writer.Ping(), "database is closed")
		require.ErrorContains(t, aDB.reader.Ping(), "database is closed")

		require.NoError(t, db.Close())
		require.Equal(t, baseline, openFDs(t), "every file descriptor is closed")
	})

	t.Run("OKEvictedInUseIsReusedNotReopened", func(t *testing.T) {
		db := openTestDB(t, Options{MaxOpenTenants: 1})
		counts := countOpens(db, 0)
		a, b := createTenant(t, db, "tenant-a"), createTenant(t, db, "tenant-b")

		started, release := make(chan struct{}), make(chan struct{})
		done := blockingView(a, started, release, func(capability.Tx) error { return nil })
		<-started
		before := opens(counts, "tenant-a")
		mustCreateProject(t, b, "B") // evicts a, which stays open for the View
		require.Equal(t, 2, db.Tenants().OpenCount())
		mustCreateProject(t, a, "A") // must reuse a's open database
		require.Equal(t, before, opens(counts, "tenant-a"))
		close(release)
		require.NoError(t, <-done)
		require.Equal(t, 1, db.Tenants().OpenCount())
	})

	t.Run("OKConcurrentFirstUseOpensOnce", func(t *testing.T) {
		db := openTestDB(t, Options{})
		counts := countOpens(db, 20*time.Millisecond)
		require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: "busy"}))
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for range 32 {
			wg.Go(func() {
				store, err := db.Tenants().Tenant(ctx, "busy")
				if err == nil {
					err = store.View(ctx, func(capability.Tx) error { return nil })
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Equal(t, 1, opens(counts, "busy"))
		require.Equal(t, 1, db.Tenants().OpenCount())
	})

	t.Run("OKFailedOpenIsRetried", func(t *testing.T) {
		db := openTestDB(t, Options{})
		require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: "flaky"}))
		errFlaky := errors.New("disk hiccup")
		open := db.tenants.cache.open
		var calls atomic.Int32
		db.tenants.cache.open = func(ctx context.Context, slug string) (*database, error) {
			if calls.Add(1) == 1 {
				return nil, errFlaky
			}
			return open(ctx, slug)
		}
		_, err := db.Tenants().Tenant(ctx, "flaky")
		require.ErrorIs(t, err, errFlaky)
		require.Equal(t, 0, db.Tenants().OpenCount())
		_, err = db.Tenants().Tenant(ctx, "flaky")
		require.NoError(t, err)
		require.Equal(t, 1, db.Tenants().OpenCount())
	})

	t.Run("ErrWaiterCancelled", func(t *testing.T) {
		db := openTestDB(t, Options{MaxOpenTenants: 1})
		countOpens(db, 50*time.Millisecond)
		require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: "slow"}))
		first := make(chan error, 1)
		go func() {
			_, err := db.Tenants().Tenant(ctx, "slow")
			first <- err
		}()
		require.Eventually(t, func() bool { // the first caller is opening
			c := db.tenants.cache
			c.mu.Lock()
			defer c.mu.Unlock()
			_, ok := c.live["slow"]
			return ok
		}, time.Second, time.Millisecond)
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		_, err := db.tenants.cache.acquire(cancelled, "slow")
		require.ErrorIs(t, err, context.Canceled)
		require.NoError(t, <-first, "one caller giving up does not fail the open")
		// The cancelled waiter's reference was returned: "slow" is idle and
		// gives way to the next tenant.
		createTenant(t, db, "next")
		require.Equal(t, 1, db.Tenants().OpenCount())
	})

	t.Run("OKCloseWhileInUse", func(t *testing.T) {
		db, err := Open(ctx, Options{Dir: t.TempDir()})
		require.NoError(t, err)
		a := createTenant(t, db, "tenant-a")
		started, release := make(chan struct{}), make(chan struct{})
		done := blockingView(a, started, release, func(tx capability.Tx) error {
			_, err := tx.FindProjects(ctx, capability.ProjectFilter{})
			return err
		})
		<-started
		aDB := liveDatabase(db, "tenant-a")
		require.NoError(t, db.Close())
		require.NoError(t, aDB.writer.Ping(), "still in use")
		close(release)
		require.NoError(t, <-done)
		require.Equal(t, 0, db.Tenants().OpenCount())
		require.Error(t, aDB.writer.Ping())
	})
}

// liveDatabase returns the open database of slug, which must be open.
func liveDatabase(db *DB, slug string) *database {
	c := db.tenants.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live[slug].db
}

func TestTenantStats(t *testing.T) {
	ctx := context.Background()

	t.Run("OKCountsOpensHitsEvictions", func(t *testing.T) {
		db := openTestDB(t, Options{MaxOpenTenants: 2})
		require.Equal(t, TenantStats{}, db.Tenants().Stats())

		a := createTenant(t, db, "tenant-a") // cold open
		require.Equal(t, TenantStats{Opens: 1, Open: 1}, db.Tenants().Stats())
		view(t, a, func(capability.Tx) error { return nil }) // hit
		view(t, a, func(capability.Tx) error { return nil }) // hit
		require.Equal(t, TenantStats{Opens: 1, Hits: 2, Open: 1}, db.Tenants().Stats())

		b := createTenant(t, db, "tenant-b")
		createTenant(t, db, "tenant-c") // evicts a
		require.Equal(t, TenantStats{Opens: 3, Hits: 2, Evictions: 1, Open: 2}, db.Tenants().Stats())
		view(t, a, func(capability.Tx) error { return nil }) // reopens a, evicts b
		view(t, b, func(capability.Tx) error { return nil }) // reopens b, evicts c
		require.Equal(t, TenantStats{Opens: 5, Hits: 2, Evictions: 3, Open: 2}, db.Tenants().Stats())
		require.Equal(t, db.Tenants().OpenCount(), db.Tenants().Stats().Open)

		require.NoError(t, db.Close())
		got := db.Tenants().Stats()
		require.Equal(t, uint64(3), got.Evictions, "closing the store is not an eviction")
		require.Equal(t, 0, got.Open)
	})

	t.Run("OKConcurrentFirstUseIsOneOpen", func(t *testing.T) {
		db := openTestDB(t, Options{})
		countOpens(db, 20*time.Millisecond)
		require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: "busy"}))
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				store, err := db.Tenants().Tenant(ctx, "busy")
				if err == nil {
					err = store.View(ctx, func(capability.Tx) error { return nil })
				}
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		got := db.Tenants().Stats()
		require.Equal(t, uint64(1), got.Opens)
		require.GreaterOrEqual(t, got.Hits, uint64(16), "every View is a hit, and so is every waiter")
	})
}
