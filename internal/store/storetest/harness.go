package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// Options are what the suite injects into the stores it opens. A nil field
// asks for the engine's default (time.Now, storecore.NewID).
type Options struct {
	Now   func() time.Time
	NewID func(prefix string) string
}

// Stores is one engine's stores over one database: everything capd's
// commands use of a storage engine.
type Stores struct {
	Control capability.ControlStore
	Tenants capability.TenantStores
	// Scratch gives conformance runs throwaway copies of tenants.
	Scratch capability.ScratchStores
	// TryLock takes a lock shared by every opener of the database, so
	// that one process or node at a time runs a scheduled job.
	TryLock func(ctx context.Context, name string) (unlock func(), ok bool, err error)

	// OpenAgain opens the stores a second time, independently, over the
	// same database, as another process (the CLI) or another capd node
	// does, and closes them when t ends.
	OpenAgain func(t *testing.T, opts Options) Stores
}

// Harness is how the suite reaches an engine.
type Harness struct {
	// Open opens stores over a new, empty database (a new data directory,
	// a new PostgreSQL database) with opts and closes them when t ends.
	Open func(t *testing.T, opts Options) Stores
}

// Run runs the whole suite against the engine h opens.
//
// The groups that read control data across tenants (tenant lists, call
// logs, conformance results, public sets) each open their own database, so
// none sees another's rows, and run in parallel with each other. The
// groups of tenant data share one database, each with tenants of its own,
// because a tenant is already a boundary (TenantIsolation checks that it
// is) and a PostgreSQL database costs a few hundred milliseconds to create;
// they run one after another, since they share the database's fake clock.
func Run(t *testing.T, h Harness) {
	require.NotNil(t, h.Open, "Harness.Open is required")
	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		testDefaults(t, h)
	})
	for _, g := range []struct {
		name string
		run  func(*testing.T, *env)
	}{
		{"Tenants", testTenants},
		{"Keys", testKeys},
		{"Calls", testCalls},
		{"Conformance", testConformance},
		{"LatestConformance", testLatestConformance},
		{"Sets", testSets},
		{"ListSets", testListSets},
		{"ControlIsolation", testControlIsolation},
	} {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, open(t, h))
		})
	}

	shared := open(t, h)
	for _, g := range []struct {
		name string
		run  func(*testing.T, *env)
	}{
		{"Projects", testProjects},
		{"Staff", testStaff},
		{"Tasks", testTasks},
		{"FindTasks", testFindTasks},
		{"Actions", testActions},
		{"Runs", testRuns},
		{"RunLogs", testRunLogs},
		{"Artifacts", testArtifacts},
		{"TaskTypes", testTaskTypes},
		{"TaskDetails", testTaskDetails},
		{"Idempotency", testIdempotency},
		{"Transactions", testTransactions},
		{"Scratch", testScratch},
		{"Locks", testLocks},
		{"Concurrency", testConcurrency},
		{"TenantIsolation", testTenantIsolation},
	} {
		t.Run(g.name, func(t *testing.T) { g.run(t, shared) })
	}
}

// env is one group's stores with the clock and ID generator the suite gave
// them.
type env struct {
	Stores
	clock *clock
	ids   *idGen
	opts  Options
}

// open opens fresh stores for t with a fake clock and a counting ID
// generator.
func open(t *testing.T, h Harness) *env {
	t.Helper()
	e := &env{clock: newClock(), ids: &idGen{}}
	e.opts = Options{Now: e.clock.Now, NewID: e.ids.New}
	e.Stores = h.Open(t, e.opts)
	require.NotNil(t, e.Control, "Harness.Open returned no control store")
	require.NotNil(t, e.Tenants, "Harness.Open returned no tenant stores")
	return e
}

// tenant registers slug and returns its store.
func (e *env) tenant(t testing.TB, slug string) capability.TenantStore {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, e.Control.CreateTenant(ctx, &capability.Tenant{Slug: slug}))
	s, err := e.Tenants.Tenant(ctx, slug)
	require.NoError(t, err)
	return s
}
