package postgres

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

// DefaultPageLimit is the page size when a Page leaves Limit at zero or
// below; the same as the SQLite store's, so both answer a call alike.
const DefaultPageLimit = storecore.DefaultPageLimit

var _ capability.Tx = (*tx)(nil)

// tx is one tenant transaction; it implements capability.Tx over a pgx
// transaction whose search_path is the tenant's schema, so every table
// name below is unqualified.
//
// A statement that fails in PostgreSQL aborts the whole transaction, where
// SQLite fails only the statement. The methods therefore avoid failing on
// outcomes a caller is expected to handle: duplicates are found with
// ON CONFLICT DO NOTHING and reported as already_exists, and a missing row
// is ErrNotFound from an empty result, so a caller may go on using the
// transaction after either, as it can with SQLite.
type tx struct {
	tx    pgx.Tx
	now   func() time.Time
	newID func(prefix string) string
}

// pgTime is t as a timestamptz column stores it: UTC, whole microseconds
// (pgx truncates the nanoseconds). The store puts this value back into the
// caller's struct, so what a caller holds after a write equals what a later
// read returns.
func pgTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// nullTime maps the domain's zero time ("never", "none") to NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return pgTime(t)
}

// fromNullTime turns a scanned nullable timestamp into the domain's value:
// NULL is the zero time, anything else UTC.
func fromNullTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// nullString maps the domain's "" (not set) to NULL, so CHECK constraints
// only ever see real values.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// fromNullString turns a scanned nullable text column into the domain's
// value: NULL is "".
func fromNullString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// nullJSON maps a JSON value to its column: the text as given, or NULL when
// there is none.
func nullJSON(v []byte) any {
	if len(v) == 0 {
		return nil
	}
	return string(v)
}

// stamp fills the creation timestamps the caller left zero, so fixtures can
// set historical times and everyone else gets the store's clock, and rounds
// both to what the column keeps.
func (t *tx) stamp(created, updated *time.Time) {
	if created.IsZero() {
		*created = t.now()
	}
	*created = pgTime(*created)
	if updated != nil {
		if updated.IsZero() {
			*updated = *created
		}
		*updated = pgTime(*updated)
	}
}

// dateLayout is the domain's date format (YYYY-MM-DD).
const dateLayout = "2006-01-02"

// nullDate parses the domain's "" or YYYY-MM-DD for a date column. It is
// strict, as the SQLite store's CHECK is: "2025-2-3" or "2025-02-30" is an
// error, where PostgreSQL's date input would accept the first.
func nullDate(s string) (any, error) {
	if s == "" {
		return nil, nil
	}
	d, err := time.Parse(dateLayout, s)
	if err != nil {
		return nil, fmt.Errorf("date %q is not a calendar date YYYY-MM-DD: %w", s, err)
	}
	return d, nil
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

// where accumulates the conditions and arguments of a list query. Only
// fixed SQL fragments go into conds, written with ? for each argument; add
// numbers them $1, $2, ... in order, and every value goes into args.
type where struct {
	conds []string
	args  []any
}

// add appends one condition, whose ?s stand for args in order.
func (w *where) add(cond string, args ...any) {
	var b strings.Builder
	n := 0
	for _, r := range cond {
		if r == '?' && n < len(args) {
			w.args = append(w.args, args[n])
			n++
			b.WriteString("$" + strconv.Itoa(len(w.args)))
			continue
		}
		b.WriteRune(r)
	}
	w.conds = append(w.conds, b.String())
}

// next returns the placeholder of an argument appended after the
// conditions' ones (the LIMIT, say) and appends it.
func (w *where) next(arg any) string {
	w.args = append(w.args, arg)
	return "$" + strconv.Itoa(len(w.args))
}

// String renders the WHERE clause, or "" when there is no condition.
func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// likeEscaper escapes LIKE's wildcards and the escape character itself, so
// user input matches literally: a search for "50%" finds "50%", not "500".
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// containsPattern returns an ILIKE pattern matching text that contains q.
// Use it with ESCAPE '\'.
func containsPattern(q string) string {
	return "%" + likeEscaper.Replace(q) + "%"
}

// uniqueViolation is PostgreSQL's SQLSTATE for a duplicate key.
const uniqueViolation = "23505"

// isUniqueViolation reports whether err is PostgreSQL rejecting a
// duplicate key.
func isUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == uniqueViolation
}

// scanAll reads every row of rows with scan and closes rows. A list with no
// rows is nil, as the SQLite store returns.
func scanAll[T any](rows pgx.Rows, scan func(pgx.Row) (*T, error)) ([]*T, error) {
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
func changedOne(tag pgconn.CommandTag, kind, id string) error {
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s %s: %w", kind, id, capability.ErrNotFound)
	}
	return nil
}

// notFound wraps ErrNotFound for a missing row, naming it as the SQLite
// store does; any other error is wrapped with what failed.
func notFound(err error, what, failed string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, capability.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", failed, err)
}
