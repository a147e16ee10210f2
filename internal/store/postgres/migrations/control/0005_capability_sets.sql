-- +goose Up
-- Capability sets a tenant owns. Built-in sets ship with capd and are not
-- stored. members is a JSON array of {name, version?, notes?}; tags a JSON
-- array of strings. Both are always arrays, never NULL.
CREATE TABLE capability_sets (
    owner       text NOT NULL REFERENCES tenants (slug),
    name        text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    description text NOT NULL,
    is_public   boolean NOT NULL,
    members     jsonb NOT NULL CHECK (jsonb_typeof(members) = 'array'),
    source      text NOT NULL,
    tags        jsonb NOT NULL CHECK (jsonb_typeof(tags) = 'array'),
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (owner, name)
);

-- Public sets by name, in listing order (name, owner): serves resolving a
-- public set by name and the public half of a listing. The primary key
-- serves an owner's own sets.
CREATE INDEX capability_sets_public ON capability_sets (name, owner) WHERE is_public;

-- +goose Down
DROP TABLE capability_sets;
