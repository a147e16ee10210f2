// Package postgres is capd's storage adapter on PostgreSQL (pgx), for
// running several stateless capd nodes on one shared database.
//
// The layout mirrors the SQLite adapter's one file per tenant with one
// schema per tenant: the control schema capd_control holds what is shared
// across tenants (the tenant list, hashed API keys, the call log,
// conformance results and capability sets), and each tenant's data lives in
// its own schema tenant_<slug>, created and migrated on first use. A
// schema per tenant keeps one tenant's rows out of another's queries by
// construction, lets a tenant be dumped, moved or dropped as a unit, and is
// the unit Citus's schema-based sharding distributes across worker nodes
// without application changes.
//
// Migrations are goose SQL files embedded in the binary, one directory per
// kind of schema; goose's version table lives inside each schema, so every
// schema carries its own migration state.
package postgres
