package transfer_test

import (
	"testing"

	"github.com/capd-dev/capd/internal/store/pgtest"
)

// TestMain runs the package's tests beside a throwaway PostgreSQL server
// (started on first use); each test gets its own database from pgtest.DSN.
func TestMain(m *testing.M) { pgtest.Main(m) }
