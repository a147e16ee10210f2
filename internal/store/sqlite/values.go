package sqlite

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// timeLayout is RFC 3339 with a fixed nine-digit fraction. time.RFC3339Nano
// trims trailing zeros, which breaks text ordering ("05.5Z" sorts before
// "05Z"); a fixed width keeps ORDER BY and range comparisons on timestamp
// columns correct. Values are always UTC, so the zone is always "Z".
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// formatTime encodes t for a timestamp column.
func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// formatNullTime encodes t for a nullable timestamp column; the zero time,
// which the domain uses for "never", becomes NULL.
func formatNullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return formatTime(t)
}

// parseTime decodes a timestamp column into UTC.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored timestamp %q: %w", s, err)
	}
	return t.UTC(), nil
}

// parseNullTime decodes a nullable timestamp column; NULL becomes the zero
// time.
func parseNullTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return parseTime(s.String)
}

// nullString maps the domain's "" (not set) to SQL NULL, so CHECK
// constraints only ever see real values.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// likeEscaper escapes LIKE's wildcards and the escape character itself, so
// user input matches literally: a search for "50%" finds "50%", not "500".
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// containsPattern returns a LIKE pattern matching text that contains q. Use
// it with ESCAPE '\'. LIKE folds ASCII letters only, so matching is
// case-insensitive for ASCII.
func containsPattern(q string) string {
	return "%" + likeEscaper.Replace(q) + "%"
}

// isUniqueViolation reports whether err is SQLite rejecting a duplicate key.
func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// where accumulates the conditions and arguments of a list query. Only
// fixed SQL fragments go into conds; every value goes into args.
type where struct {
	conds []string
	args  []any
}

// add appends one condition with its arguments.
func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// String renders the WHERE clause, or "" when there is no condition.
func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// placeholders returns "?, ?, ..." for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// nullJSON maps a JSON value to its column: the text as given, or NULL
// when there is none.
func nullJSON(v json.RawMessage) any {
	if len(v) == 0 {
		return nil
	}
	return string(v)
}

// parseNullJSON decodes a nullable JSON column; NULL becomes nil.
func parseNullJSON(s sql.NullString) json.RawMessage {
	if !s.Valid {
		return nil
	}
	return json.RawMessage(s.String)
}
