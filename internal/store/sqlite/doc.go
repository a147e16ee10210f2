// Package sqlite is capd's storage adapter on SQLite (modernc.org/sqlite, no
// cgo).
//
// A data directory holds control.db, which is shared across tenants (the
// tenant list, hashed API keys and the call log), and tenants/<slug>.db, one
// database per tenant, so a tenant's data can be backed up, moved or deleted
// as one file and can never leak into another tenant's queries. (A closed
// database keeps an empty -wal file and a -shm file beside it, because
// creating and deleting them on every open was a third of its cost; SQLite
// recreates them if they are missing.)
//
// Every database is opened with one writer connection, because several
// writers to one SQLite file collapse into busy back-off under contention,
// and a small pool of query-only reader connections, because WAL lets readers
// run beside the writer. Tenant databases are opened on first use and kept in
// a bounded LRU: each open tenant costs file descriptors and memory outside
// the Go heap, and a server may host far more tenants than it can keep open.
//
// Both kinds of database are migrated by goose from embedded SQL files with
// the same names and versions as the PostgreSQL store's. A run holds the
// database's write lock throughout, so concurrent openers apply each file
// once, and stamps PRAGMA user_version with the version reached, so that
// opening a current database is one read and no write. A database from
// before goose, which has only the user_version, is adopted into goose's
// version table by the first open that has a migration to apply.
package sqlite
