package transfer

import (
	"fmt"
	"slices"
	"strings"
)

// Kind says how a column's values map between the engines and how the
// checksum encodes them. Every kind has one canonical Go value (see
// values.go) that both engines' values are converted to, so a checksum
// compares what a value means to capd, not how an engine spells it.
type Kind int

// The kinds of column capd's schemas use.
const (
	// Text is text where '' is a value of its own (a description, a
	// message).
	Text Kind = iota
	// OptText is optional text: the domain's "" means "not set", which
	// both stores write as NULL; '' and NULL are one value.
	OptText
	// Time is a timestamp: RFC 3339 text in SQLite (nine fraction
	// digits), timestamptz in PostgreSQL (microseconds). Canonical: UTC,
	// truncated to the microsecond, as the PostgreSQL store truncates
	// every time it writes.
	Time
	// OptTime is an optional timestamp: NULL is the domain's zero time
	// ("never", "none"), and a stored zero time means the same.
	OptTime
	// Date is a calendar date, YYYY-MM-DD: text in SQLite, date in
	// PostgreSQL. NULL or '' is no date.
	Date
	// Int is a 64-bit integer: ids, sizes, sequence numbers and durations
	// in microseconds (which may be negative: a call's duration is
	// measured on a clock that can step back).
	Int
	// Float is a double: REAL in SQLite, double precision in PostgreSQL.
	Float
	// Bool is a boolean: 0 or 1 in SQLite, boolean in PostgreSQL.
	Bool
	// Bytes is binary: BLOB in SQLite, bytea in PostgreSQL.
	Bytes
	// JSONText is JSON kept byte for byte: text in SQLite, json in
	// PostgreSQL, which stores the text as given; reads return the bytes
	// the caller stored, so the checksum compares the bytes.
	JSONText
	// JSONDoc is JSON compared by value: text in SQLite, jsonb in
	// PostgreSQL, which reorders keys and drops whitespace. The checksum
	// compares a canonical form (sorted keys, no whitespace, numbers by
	// value), which is all the stores read back.
	JSONDoc
	// Scopes is a key's scope list: comma-separated text in SQLite, text[]
	// in PostgreSQL; empty entries mean nothing to either store.
	Scopes
	// Pins is a key's pinned versions: comma-separated name@version text
	// in SQLite ('' for none), a JSON object name -> version in
	// PostgreSQL. Canonical: the sorted name@version list.
	Pins
)

// kindNames name the kinds in error messages.
var kindNames = [...]string{"text", "optional text", "timestamp", "optional timestamp", "date", "integer",
	"float", "boolean", "bytes", "JSON text", "JSON document", "scopes", "pins"}

// String names the kind, for messages.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// sqliteType is the column type a SQLite STRICT table declares for k.
func (k Kind) sqliteType() string {
	switch k {
	case Int, Bool:
		return "INTEGER"
	case Float:
		return "REAL"
	case Bytes:
		return "BLOB"
	default:
		return "TEXT"
	}
}

// postgresType is information_schema's data_type of a PostgreSQL column
// of kind k.
func (k Kind) postgresType() string {
	switch k {
	case Time, OptTime:
		return "timestamp with time zone"
	case Date:
		return "date"
	case Int:
		return "bigint"
	case Float:
		return "double precision"
	case Bool:
		return "boolean"
	case Bytes:
		return "bytea"
	case JSONText:
		return "json"
	case JSONDoc, Pins:
		return "jsonb"
	case Scopes:
		return "ARRAY"
	default:
		return "text"
	}
}

// Column is one column of a table and the kind of its values.
type Column struct {
	Name string
	Kind Kind
}

// Table is one table that exists, with the same name and columns, in both
// engines' schemas.
type Table struct {
	Name    string
	Columns []Column
	// Key is the primary key: the order of rows in a checksum.
	Key []string
	// Owner is, for a control table, the column naming the tenant a row
	// belongs to: those rows move in that tenant's transaction. A control
	// table without an owner is a log (calls, conformance results) with an
	// integer id, moved whole in the control transaction with its ids.
	Owner string
	// Seeded is set for a tenant table its migrations fill (the
	// task-type taxonomy): the copy replaces the target's rows with the
	// source's, so both hold exactly the same.
	Seeded bool
}

// columns returns the table's column names.
func (t Table) columns() []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Name
	}
	return out
}

// kinds returns the table's column kinds, in column order.
func (t Table) kinds() []Kind {
	out := make([]Kind, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Kind
	}
	return out
}

// kind returns the kind of column name.
func (t Table) kind(name string) Kind {
	for _, c := range t.Columns {
		if c.Name == name {
			return c.Kind
		}
	}
	panic("transfer: table " + t.Name + " has no column " + name)
}

// ControlTables are the tables of SQLite's control.db and PostgreSQL's
// capd_control schema, in an order that satisfies their foreign keys.
//
// The schema checks (checkSQLiteSchema, checkPostgresSchema) compare this
// list with both engines' real schemas before anything is copied, so a
// table or column added by a migration without being added here stops
// capd migrate, and its tests, rather than being left behind.
var ControlTables = []Table{
	{Name: "tenants", Key: []string{"slug"}, Owner: "slug", Columns: []Column{
		{"slug", Text}, {"name", Text}, {"created_at", Time},
	}},
	{Name: "api_keys", Key: []string{"prefix"}, Owner: "tenant", Columns: []Column{
		{"prefix", Text}, {"tenant", Text}, {"secret_hash", Bytes}, {"scopes", Scopes},
		{"created_at", Time}, {"expires_at", OptTime}, {"revoked_at", OptTime}, {"last_used_at", OptTime},
		{"pins", Pins},
	}},
	{Name: "capability_sets", Key: []string{"owner", "name"}, Owner: "owner", Columns: []Column{
		{"owner", Text}, {"name", Text}, {"description", Text}, {"is_public", Bool}, {"members", JSONDoc},
		{"source", Text}, {"tags", JSONDoc}, {"created_by", Text}, {"created_at", Time}, {"updated_at", Time},
	}},
	{Name: "calls", Key: []string{"id"}, Columns: []Column{
		{"id", Int}, {"at", Time}, {"tenant", Text}, {"key_prefix", Text}, {"capability", Text},
		{"outcome", Text}, {"duration_us", Int}, {"replayed", Bool},
	}},
	{Name: "conformance_results", Key: []string{"id"}, Columns: []Column{
		{"id", Int}, {"run_id", Text}, {"provider", Text}, {"capability", Text}, {"version", Text},
		{"case_id", Text}, {"kind", Text}, {"outcome", Text}, {"duration_us", Int}, {"started_at", Time},
		{"message", Text},
	}},
}

// TenantTables are the tables of a SQLite tenant database and of a
// PostgreSQL tenant schema, in an order that satisfies their foreign keys.
// The schema checks hold them to both engines' real schemas, as
// ControlTables.
var TenantTables = []Table{
	{Name: "projects", Key: []string{"id"}, Columns: []Column{
		{"id", Text}, {"name", Text}, {"description", Text}, {"created_at", Time}, {"updated_at", Time},
	}},
	{Name: "staff", Key: []string{"id"}, Columns: []Column{
		{"id", Text}, {"name", Text}, {"email", Text}, {"role", Text}, {"created_at", Time},
	}},
	{Name: "tasks", Key: []string{"id"}, Columns: []Column{
		{"id", Text}, {"project_id", Text}, {"title", Text}, {"description", Text}, {"status", Text},
		{"priority", OptText}, {"due_date", Date}, {"assignee_id", OptText}, {"agent_vendor", OptText},
		{"created_at", Time}, {"updated_at", Time}, {"cancel_reason", OptText},
	}},
	{Name: "task_actions", Key: []string{"id"}, Columns: []Column{
		{"id", Text}, {"task_id", Text}, {"title", Text}, {"notes", Text}, {"assignee_id", OptText},
		{"state", Text}, {"created_at", Time}, {"updated_at", Time},
	}},
	{Name: "task_runs", Key: []string{"id"}, Columns: []Column{
		{"id", Text}, {"task_id", Text}, {"status", Text}, {"branch", OptText}, {"stage", OptText},
		{"output", JSONText}, {"state", JSONText}, {"error_message", OptText},
		{"created_at", Time}, {"updated_at", Time}, {"finished_at", OptTime},
	}},
	{Name: "task_run_logs", Key: []string{"run_id", "seq"}, Columns: []Column{
		{"run_id", Text}, {"seq", Int}, {"level", Text}, {"message", Text}, {"at", Time},
	}},
	{Name: "task_run_artifacts", Key: []string{"id"}, Columns: []Column{
		{"id", Text}, {"run_id", Text}, {"name", Text}, {"content_type", Text}, {"size", Int},
		{"sha256", Text}, {"created_at", Time}, {"content", Bytes},
	}},
	{Name: "task_types", Key: []string{"category", "task_type"}, Seeded: true, Columns: []Column{
		{"category", Text}, {"task_type", Text}, {"description", Text},
	}},
	{Name: "task_details", Key: []string{"task_id"}, Columns: []Column{
		{"task_id", Text}, {"budget_usd", Float}, {"category", OptText}, {"task_type", OptText},
		{"requirements", JSONText}, {"expires_at", OptTime}, {"labels", JSONText},
	}},
	{Name: "idempotency_keys", Key: []string{"key"}, Columns: []Column{
		{"key", Text}, {"capability", Text}, {"args_hash", Text}, {"result", Bytes}, {"created_at", Time},
	}},
}

// schemaColumn is one column as an engine's catalog describes it.
type schemaColumn struct {
	table, column, typ string
}

// compareSchema checks that the catalog's columns (of one database or
// schema, named where) are exactly tables' columns, with the types typeOf
// gives their kinds, and returns one error naming every difference.
func compareSchema(where string, tables []Table, catalog []schemaColumn, typeOf func(Kind) string) error {
	type col struct{ table, column string }
	want := map[col]string{}
	wantTables := map[string]bool{}
	for _, t := range tables {
		wantTables[t.Name] = true
		for _, c := range t.Columns {
			want[col{t.Name, c.Name}] = typeOf(c.Kind)
		}
	}
	var problems []string
	seen := map[col]bool{}
	gotTables := map[string]bool{}
	for _, c := range catalog {
		gotTables[c.table] = true
		k := col{c.table, c.column}
		seen[k] = true
		switch typ, ok := want[k]; {
		case !wantTables[c.table]:
			// Reported once per table below.
		case !ok:
			problems = append(problems, fmt.Sprintf("column %s.%s (%s) is not one capd migrate knows how to move", c.table, c.column, c.typ))
		case !strings.EqualFold(typ, c.typ):
			problems = append(problems, fmt.Sprintf("column %s.%s is %s, capd migrate expects %s", c.table, c.column, c.typ, typ))
		}
	}
	for t := range gotTables {
		if !wantTables[t] {
			problems = append(problems, fmt.Sprintf("table %s is not one capd migrate knows how to move", t))
		}
	}
	for k := range want {
		if !seen[k] {
			problems = append(problems, fmt.Sprintf("column %s.%s is missing", k.table, k.column))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	slices.Sort(problems)
	return fmt.Errorf("%s does not have the schema this capd moves (%d differences):\n  %s",
		where, len(problems), strings.Join(problems, "\n  "))
}
