-- +goose Up
-- One tenant's database. IDs are prefixed UUIDv7 text, so they sort by
-- creation and every list pages by "id > after". Timestamps are UTC RFC 3339
-- text with nine fraction digits, so they sort as text. Optional text fields
-- are NULL rather than '' so the CHECKs can state the allowed values.

CREATE TABLE projects (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL CHECK (name <> ''),
    description TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

-- Project names are unique regardless of case, so an agent cannot create
-- "Website" next to "website". NOCASE folds ASCII letters only.
CREATE UNIQUE INDEX projects_name ON projects (name COLLATE NOCASE);

CREATE TABLE staff (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL CHECK (name <> ''),
    email      TEXT NOT NULL,
    role       TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE tasks (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects (id),
    title        TEXT NOT NULL CHECK (title <> ''),
    description  TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('todo', 'doing', 'waiting', 'review', 'done', 'cancelled')),
    priority     TEXT CHECK (priority IN ('low', 'medium', 'high')),
    -- date() normalises or rejects what is not a real calendar date.
    due_date     TEXT CHECK (due_date IS NULL OR date(due_date) IS due_date),
    assignee_id  TEXT REFERENCES staff (id),
    agent_vendor TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;

-- One index per TaskFilter field that narrows a scan; id last so a filtered
-- page is read in id order straight from the index.
CREATE INDEX tasks_project ON tasks (project_id, id);
CREATE INDEX tasks_status ON tasks (status, id);
CREATE INDEX tasks_assignee ON tasks (assignee_id, id);
CREATE INDEX tasks_due_date ON tasks (due_date);
