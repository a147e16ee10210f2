-- +goose Up
-- Capability sets a tenant owns. Built-in sets ship with capd and are not
-- stored. members is a JSON array of {name, version?, notes?}; tags a JSON
-- array of strings. Both are always arrays, never NULL.
CREATE TABLE capability_sets (
    owner       TEXT NOT NULL REFERENCES tenants (slug),
    -- ^[a-z0-9][a-z0-9-]{0,62}$, spelled in GLOB: SQLite has no regexp.
    name        TEXT NOT NULL CHECK (
        length(name) BETWEEN 1 AND 63
        AND name GLOB '[a-z0-9]*'
        AND name NOT GLOB '*[^a-z0-9-]*'
    ),
    description TEXT NOT NULL,
    is_public   INTEGER NOT NULL CHECK (is_public IN (0, 1)),
    members     TEXT NOT NULL CHECK (json_valid(members) AND json_type(members) = 'array'),
    source      TEXT NOT NULL,
    tags        TEXT NOT NULL CHECK (json_valid(tags) AND json_type(tags) = 'array'),
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (owner, name)
) STRICT;

-- Public sets by name, in listing order (name, owner): serves resolving a
-- public set by name and the public half of a listing. The primary key
-- serves an owner's own sets. tags is in the index so the tag filter
-- (json_each over tags) rejects public rows without reading the table;
-- no index can serve json_each itself, and tags are few.
CREATE INDEX capability_sets_public ON capability_sets (name, owner, tags) WHERE is_public = 1;
