package postgres

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/store/pgtest"
	"github.com/capd-dev/capd/internal/store/storetest"
)

// TestStoreSuite runs the store suite every engine shares against a real
// PostgreSQL server; the tests beside it cover only what is particular to
// PostgreSQL.
func TestStoreSuite(t *testing.T) {
	storetest.Run(t, storetest.Harness{Open: openSuiteStores})
}

// openSuiteStores opens a new, empty database for the suite.
func openSuiteStores(t *testing.T, opts storetest.Options) storetest.Stores {
	return openSuiteDSN(t, pgtest.DSN(t), opts)
}

// openSuiteDSN opens the database at dsn, as another capd node would, and
// closes it when t ends.
func openSuiteDSN(t *testing.T, dsn string, opts storetest.Options) storetest.Stores {
	db, err := Open(context.Background(), dsn, Options{Now: opts.Now, NewID: opts.NewID})
	require.NoError(t, err)
	t.Cleanup(db.Close)
	return storetest.Stores{
		Control: db.Control(),
		Tenants: db.Tenants(),
		Scratch: db.Tenants(),
		TryLock: db.TryLock,
		OpenAgain: func(t *testing.T, opts storetest.Options) storetest.Stores {
			return openSuiteDSN(t, dsn, opts)
		},
	}
}
