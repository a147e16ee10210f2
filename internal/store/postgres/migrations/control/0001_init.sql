-- +goose Up
-- The control schema: what is shared across tenants. It never holds tenant
-- data. Unqualified names: the store runs this with search_path set to the
-- control schema. Timestamps are timestamptz (microseconds; the store
-- rounds to them before writing, so what it returns is what it stored).

CREATE TABLE tenants (
    -- The same rule as the store's slug check: the slug also names the
    -- tenant's schema, so nothing else may get in, even around the store.
    slug       text PRIMARY KEY CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name       text NOT NULL,
    created_at timestamptz NOT NULL
);

-- Only a SHA-256 hash of each token is stored; prefix is its public,
-- unique part.
CREATE TABLE api_keys (
    prefix       text PRIMARY KEY,
    tenant       text NOT NULL REFERENCES tenants (slug),
    secret_hash  bytea NOT NULL CHECK (length(secret_hash) = 32),
    scopes       text[] NOT NULL CHECK (cardinality(scopes) > 0),
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);

CREATE INDEX api_keys_tenant ON api_keys (tenant, created_at);

-- The call log. tenant is not a foreign key: a call that failed to
-- authenticate is logged without one.
CREATE TABLE calls (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL,
    tenant      text NOT NULL,
    key_prefix  text NOT NULL,
    capability  text NOT NULL,
    outcome     text NOT NULL,
    duration_us bigint NOT NULL
);

CREATE INDEX calls_tenant_at ON calls (tenant, at);
CREATE INDEX calls_at ON calls (at);

-- +goose Down
DROP TABLE calls;
DROP TABLE api_keys;
DROP TABLE tenants;
