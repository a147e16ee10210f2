package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/store/pgtest"
)

// twoNodes opens two DBs (two pools, as two capd nodes) on one database.
func twoNodes(t *testing.T) (*DB, *DB) {
	t.Helper()
	dsn := pgtest.DSN(t)
	a, err := Open(context.Background(), dsn, Options{})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	b, err := Open(context.Background(), dsn, Options{})
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return a, b
}

// TestSetChanges: a change published by one node reaches a watcher on the
// other; resync runs once the watcher listens.
func TestSetChanges(t *testing.T) {
	a, b := twoNodes(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type change struct{ owner, name string }
	got := make(chan change, 10)
	resynced := make(chan struct{}, 10)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		b.WatchSetChanges(ctx, 50*time.Millisecond,
			func(owner, name string) { got <- change{owner, name} },
			func() { resynced <- struct{}{} },
			func(err error) { t.Logf("watch interrupted: %v", err) })
	}()
	select {
	case <-resynced:
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher never listened")
	}
	require.NoError(t, a.PublishSetChange(ctx, "acme", "triage"))
	select {
	case c := <-got:
		require.Equal(t, change{"acme", "triage"}, c)
	case <-time.After(10 * time.Second):
		t.Fatal("the change never arrived")
	}

	// A lost connection is re-established and resynced.
	_, err := a.pool.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()")
	require.NoError(t, err)
	select {
	case <-resynced:
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher did not reconnect")
	}
	require.NoError(t, a.PublishSetChange(ctx, "acme", "ops"))
	select {
	case c := <-got:
		require.Equal(t, change{"acme", "ops"}, c)
	case <-time.After(10 * time.Second):
		t.Fatal("no change after reconnecting")
	}
	cancel()
	wg.Wait()
}
