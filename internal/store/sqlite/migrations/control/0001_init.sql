-- +goose Up
-- The control database: what is shared across tenants. It never holds
-- tenant data. Timestamps are UTC RFC 3339 text with nine fraction digits,
-- so they sort as text.

CREATE TABLE tenants (
    slug       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

-- Only a hash of each token is stored; prefix is its public, unique part.
CREATE TABLE api_keys (
    prefix       TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL REFERENCES tenants (slug),
    secret_hash  BLOB NOT NULL,
    scopes       TEXT NOT NULL, -- comma-separated
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    revoked_at   TEXT,
    last_used_at TEXT
) STRICT;

CREATE INDEX api_keys_tenant ON api_keys (tenant, created_at);

-- The call log. tenant is not a foreign key: a call that failed to
-- authenticate is logged without one.
CREATE TABLE calls (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    tenant      TEXT NOT NULL,
    key_prefix  TEXT NOT NULL,
    capability  TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    duration_us INTEGER NOT NULL
) STRICT;

CREATE INDEX calls_tenant_at ON calls (tenant, at);
CREATE INDEX calls_at ON calls (at);
