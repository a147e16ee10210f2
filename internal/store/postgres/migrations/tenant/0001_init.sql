-- +goose Up
-- One tenant's schema; every name is unqualified, so the schema comes from
-- the search_path the store sets for the tenant. The same tables as the
-- SQLite tenant database: IDs are prefixed UUIDv7 text, so they sort by
-- creation and every list pages by "id > after"; timestamps are timestamptz
-- (microseconds, which the store rounds to before writing); optional text
-- fields are NULL rather than '' so the CHECKs can state the allowed
-- values. Key columns are COLLATE "C": byte order, as SQLite's BINARY, so
-- "ORDER BY id" and "id > after" agree with the SQLite store whatever the
-- database's locale, and compare faster than a locale's rules.

CREATE TABLE projects (
    id          text COLLATE "C" PRIMARY KEY,
    name        text NOT NULL CHECK (name <> ''),
    description text NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

-- Project names are unique regardless of case, so an agent cannot create
-- "Website" next to "website". An expression index rather than citext,
-- which is an extension that needs a superuser in every database.
CREATE UNIQUE INDEX projects_name ON projects (lower(name));

CREATE TABLE staff (
    id         text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL CHECK (name <> ''),
    email      text NOT NULL,
    role       text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE tasks (
    id           text COLLATE "C" PRIMARY KEY,
    project_id   text COLLATE "C" NOT NULL REFERENCES projects (id),
    title        text NOT NULL CHECK (title <> ''),
    description  text NOT NULL,
    status       text NOT NULL CHECK (status IN ('todo', 'doing', 'waiting', 'review', 'done', 'cancelled')),
    priority     text CHECK (priority IN ('low', 'medium', 'high')),
    -- A date column rejects what is not a real calendar date.
    due_date     date,
    assignee_id  text COLLATE "C" REFERENCES staff (id),
    agent_vendor text,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

-- One index per TaskFilter field that narrows a scan; id last so a filtered
-- page is read in id order straight from the index. PostgreSQL does not
-- index a foreign key's referencing side by itself; these cover
-- project_id and assignee_id.
CREATE INDEX tasks_project ON tasks (project_id, id);
CREATE INDEX tasks_status ON tasks (status, id);
CREATE INDEX tasks_assignee ON tasks (assignee_id, id);
CREATE INDEX tasks_due_date ON tasks (due_date);
