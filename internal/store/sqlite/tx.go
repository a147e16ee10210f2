package sqlite

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

// DefaultPageLimit is the page size when a Page leaves Limit at zero or
// below.
const DefaultPageLimit = storecore.DefaultPageLimit

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
// set historical times and everyone else gets the store's clock, and puts
// both back in UTC, as a read returns them: what a caller holds after a
// write equals what a later read returns, as with the PostgreSQL store.
func (t *tx) stamp(created, updated *time.Time) {
	if created.IsZero() {
		*created = t.now()
	}
	*created = created.UTC()
	if updated != nil {
		if updated.IsZero() {
			*updated = *created
		}
		*updated = updated.UTC()
	}
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// scanAll reads every row of rows with scan and closes rows. A list with no
// rows is nil, as the hand-written loops elsewhere return.
func scanAll[T any](rows *sql.Rows, scan func(scanner) (*T, error)) ([]*T, error) {
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// changedOne turns an UPDATE of one row by id into ErrNotFound when no row
// had that id.
func changedOne(res sql.Result, kind, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update %s %s: %w", kind, id, err)
	}
	if n == 0 {
		return fmt.Errorf("%s %s: %w", kind, id, capability.ErrNotFound)
	}
	return nil
}
