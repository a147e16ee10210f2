package sqlite

import (
	"database/sql"
	"time"

	"github.com/capd-dev/capd/internal/capability"
)

// DefaultPageLimit is the page size when a Page leaves Limit at zero or
// below.
const DefaultPageLimit = 25

var _ capability.Tx = (*tx)(nil)

// tx is one tenant transaction; it implements capability.Tx over a
// database/sql transaction of that tenant's database.
type tx struct {
	tx    *sql.Tx
	now   func() time.Time
	newID func(prefix string) string
}

// pageArgs adds the "after this id" condition of p to w and returns the
// LIMIT to use: one row more than asked, so the caller can tell whether
// another page exists without a second query.
func pageArgs(w *where, p capability.Page) int64 {
	if p.AfterID != "" {
		w.add("id > ?", p.AfterID)
	}
	limit := int64(p.Limit)
	if limit <= 0 {
		limit = DefaultPageLimit
	}
	return limit + 1
}

// stamp fills the creation timestamps the caller left zero, so fixtures can
// set historical times and everyone else gets the store's clock.
func (t *tx) stamp(created, updated *time.Time) {
	now := t.now().UTC()
	if created.IsZero() {
		*created = now
	}
	if updated != nil && updated.IsZero() {
		*updated = *created
	}
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}
