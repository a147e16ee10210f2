package sqlite

import (
	"time"

	"github.com/capd-dev/capd/internal/store/storecore"
)

// DefaultMaxOpenTenants bounds the tenant LRU when Options leaves it zero.
// An idle open tenant (writer plus one idle reader) holds about five file
// descriptors (db, -wal, -shm; measured), so 1000 open tenants need about
// 5,000, well under a 20,000 descriptor limit with room for busy readers and
// network connections.
const DefaultMaxOpenTenants = 1000

// ID prefixes name an entity's kind inside its ID, so an ID pasted into the
// wrong field is recognisable at a glance by people and agents alike.
const (
	PrefixProject  = storecore.PrefixProject
	PrefixTask     = storecore.PrefixTask
	PrefixStaff    = storecore.PrefixStaff
	PrefixAction   = storecore.PrefixAction
	PrefixRun      = storecore.PrefixRun
	PrefixArtifact = storecore.PrefixArtifact
)

// Options configures the stores. Only Dir is required; the clock and the ID
// generator are injectable so tests and conformance fixtures are
// deterministic.
type Options struct {
	Dir            string                     // data directory; created (0700) if missing
	MaxOpenTenants int                        // LRU capacity; 0 means DefaultMaxOpenTenants
	Now            func() time.Time           // clock; nil means time.Now
	NewID          func(prefix string) string // ID generator; nil means NewID

	// TenantMaxPageCount caps every tenant database at this many pages
	// (SQLite's max_page_count on the writer): a write that would grow the
	// file further fails with SQLITE_FULL and rolls back. 0 means no cap;
	// a cap below a database's current size holds it at that size.
	TenantMaxPageCount int
}

// withDefaults returns o with every zero field replaced by its default.
func (o Options) withDefaults() Options {
	if o.MaxOpenTenants <= 0 {
		o.MaxOpenTenants = DefaultMaxOpenTenants
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = NewID
	}
	return o
}

// NewID returns a new id with prefix (see storecore.NewID).
func NewID(prefix string) string { return storecore.NewID(prefix) }
