// Package transfer moves a SQLite data directory into PostgreSQL and
// proves the copy: it is what capd migrate runs. It sits at the adapter
// level, beside cmd, because it reads one store's files and writes the
// other's tables; the stores themselves never know of each other.
//
// # What moves
//
// Every table of both schemas: ControlTables (tenants, API keys with their
// hashes, scopes, pins, expiry, revocation and last use, capability sets,
// the call log, conformance results) and TenantTables (projects, staff,
// tasks, actions, runs, run logs, artifacts, the task-type taxonomy, task
// details, idempotency results). Before anything is read or written, both
// engines' real schemas are compared with these lists, column by column
// and type by type, so a table or column a later migration adds stops the
// command (and its tests) until it is added here.
//
// # Transactions
//
// Each tenant is copied in one PostgreSQL transaction: its row in the
// control schema, its keys, its sets and every table of its database. A
// failure rolls all of it back, so a tenant is either wholly in the target
// or absent; the control schema lists it only once its data is there. The
// call log and the conformance results follow in one transaction of their
// own. The source is read in one snapshot per database (a read transaction
// on control.db for the whole run, one per tenant database), from files
// opened read-only.
//
// A run that stopped part way can be resumed: tenants already in the
// target are verified against the source and kept if they match. Anything
// else in the way (a tenant of the same slug, call-log ids the source
// uses) is refused before anything is written.
//
// # Values
//
// Each column has a Kind, and both engines' values are converted to one
// canonical value per kind before they are written or compared:
//
//   - Timestamps are RFC 3339 text with nine fraction digits in SQLite and
//     timestamptz (microseconds) in PostgreSQL. They are truncated to the
//     microsecond, exactly as the PostgreSQL store truncates every time it
//     writes; the report counts the values that lost digits. Truncation
//     keeps the order of distinct times (it can only make two times a
//     microsecond apart equal) and moves an expiry less than a microsecond
//     earlier, so it changes nothing capd decides; refusing instead would
//     refuse every real data directory, whose times come from a
//     nanosecond clock.
//   - Optional text: the domain's "" is "not set", which both stores write
//     as NULL; an empty string and NULL compare equal and are written as
//     NULL. Text that must be present keeps the empty string as a value.
//   - Optional timestamps: NULL and the zero time are both "never".
//   - Durations are integer microseconds in both engines and are copied
//     as they are, negative ones included (a clock step during a call).
//   - Booleans are 0/1 in SQLite and boolean in PostgreSQL.
//   - JSON kept as text (run output and state, task requirements and
//     labels: PostgreSQL json) is compared byte for byte; JSON stored as
//     jsonb (set members and tags, key pins) is compared in a canonical
//     form (sorted keys, no whitespace, numbers by value), because jsonb
//     does not keep the text and the stores read only its value.
//   - A key's scopes go from comma-separated text to text[], and its pins
//     from sorted name@version text to a JSON object.
//   - Text PostgreSQL cannot hold (invalid UTF-8, NUL characters) stops
//     the copy naming the row and column; nothing is altered silently.
//
// # Verification
//
// For every table of every tenant, and for the logs, the source and the
// target are read independently, in primary-key order (byte order for
// text keys on both sides), and each side's canonical rows are hashed with
// SHA-256 (see encodeValue for the encoding). Row counts and checksums
// must both agree.
package transfer
