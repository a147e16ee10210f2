package sqlite

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/store/storetest"
)

// TestStoreSuite runs the store suite every engine shares; the tests beside
// it cover only what is particular to SQLite.
func TestStoreSuite(t *testing.T) {
	storetest.Run(t, storetest.Harness{Open: openSuiteStores})
}

// openSuiteStores opens a new data directory for the suite.
func openSuiteStores(t *testing.T, opts storetest.Options) storetest.Stores {
	return openSuiteDir(t, t.TempDir(), opts)
}

// openSuiteDir opens the data directory dir, as a separate process would,
// and closes it when t ends.
func openSuiteDir(t *testing.T, dir string, opts storetest.Options) storetest.Stores {
	db, err := Open(context.Background(), Options{Dir: dir, Now: opts.Now, NewID: opts.NewID})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return storetest.Stores{
		Control: db.Control(),
		Tenants: db.Tenants(),
		Scratch: db.Tenants(),
		TryLock: db.TryLock,
		OpenAgain: func(t *testing.T, opts storetest.Options) storetest.Stores {
			return openSuiteDir(t, dir, opts)
		},
	}
}
