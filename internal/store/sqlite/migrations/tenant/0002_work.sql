-- +goose Up
-- The work of a task: its actions (sub-steps), its runs (executions by an
-- agent) with their logs and artifacts, the category/task_type taxonomy and
-- the details a task gained with projects.create_task@0.2.0. Conventions as
-- in 0001: prefixed time-ordered text ids, fixed-width UTC RFC 3339 text
-- timestamps, NULL for unset optional text.

-- NULL when the task was not cancelled or no reason was given.
ALTER TABLE tasks ADD COLUMN cancel_reason TEXT;

CREATE TABLE task_actions (
    id          TEXT PRIMARY KEY,
    task_id     TEXT NOT NULL REFERENCES tasks (id),
    title       TEXT NOT NULL CHECK (title <> ''),
    notes       TEXT NOT NULL,
    assignee_id TEXT REFERENCES staff (id),
    state       TEXT NOT NULL CHECK (state IN ('open', 'done', 'cancelled')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

CREATE INDEX task_actions_task ON task_actions (task_id, id);

-- output and state are JSON objects; the CHECKs keep text that is not one
-- out, so a read never has to decide what to do with it. iif is lazy, so
-- json_type never sees malformed text. A run is finished exactly when it is
-- no longer running.
CREATE TABLE task_runs (
    id            TEXT PRIMARY KEY,
    task_id       TEXT NOT NULL REFERENCES tasks (id),
    status        TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
    branch        TEXT,
    stage         TEXT,
    output        TEXT CHECK (output IS NULL OR iif(json_valid(output), json_type(output) = 'object', 0)),
    state         TEXT CHECK (state IS NULL OR iif(json_valid(state), json_type(state) = 'object', 0)),
    error_message TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    finished_at   TEXT,
    CHECK ((status = 'running') = (finished_at IS NULL))
) STRICT;

CREATE INDEX task_runs_task ON task_runs (task_id, id);
-- Cancelling a task looks for its running runs; finished runs, the vast
-- majority, stay out of this index.
CREATE INDEX task_runs_running ON task_runs (task_id) WHERE status = 'running';

-- Clustered on (run_id, seq): appends go to the end of a run's key range
-- and every read is a range scan of it, with no separate rowid b-tree and
-- key index to keep in step. Typical log lines are short; longer ones spill
-- to overflow pages and stay correct.
CREATE TABLE task_run_logs (
    run_id  TEXT NOT NULL REFERENCES task_runs (id),
    seq     INTEGER NOT NULL CHECK (seq > 0),
    level   TEXT NOT NULL,
    message TEXT NOT NULL,
    at      TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) STRICT, WITHOUT ROWID;

-- content is the last column on purpose: a listing selects the columns
-- before it, which sit in the row's first page, so SQLite never walks the
-- blob's overflow chain for them. size and sha256 are the caller's; the
-- CHECKs make sure they describe the stored bytes' length and are lowercase
-- hex.
CREATE TABLE task_run_artifacts (
    id           TEXT PRIMARY KEY,
    run_id       TEXT NOT NULL REFERENCES task_runs (id),
    name         TEXT NOT NULL CHECK (name <> ''),
    content_type TEXT NOT NULL CHECK (content_type <> ''),
    size         INTEGER NOT NULL CHECK (size >= 0),
    sha256       TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
    created_at   TEXT NOT NULL,
    content      BLOB NOT NULL,
    CHECK (size = length(content))
) STRICT;

CREATE INDEX task_run_artifacts_run ON task_run_artifacts (run_id, id);

-- Names are lowercase snake_case, so they can be shown, typed and matched
-- without case folding.
CREATE TABLE task_types (
    category    TEXT NOT NULL CHECK (category GLOB '[a-z]*' AND category NOT GLOB '*[^a-z0-9_]*'),
    task_type   TEXT NOT NULL CHECK (task_type GLOB '[a-z]*' AND task_type NOT GLOB '*[^a-z0-9_]*'),
    description TEXT NOT NULL,
    PRIMARY KEY (category, task_type)
) STRICT, WITHOUT ROWID;

INSERT INTO task_types (category, task_type, description) VALUES
    ('engineering', 'bug_fix',           'Find and fix a defect in existing behaviour.'),
    ('engineering', 'feature',           'Build new functionality end to end.'),
    ('engineering', 'refactor',          'Restructure code without changing what it does.'),
    ('engineering', 'code_review',       'Review a change for correctness, clarity and risk.'),
    ('engineering', 'incident_followup', 'Carry out the actions agreed after an incident.'),
    ('design',      'ux_research',       'Study how people use a product to guide its design.'),
    ('design',      'visual_design',     'Produce the visual look of screens, assets or a brand.'),
    ('design',      'prototype',         'Build a clickable or working mock-up to test an idea.'),
    ('content',     'blog_post',         'Write and publish an article for the blog.'),
    ('content',     'documentation',     'Write or update user or developer documentation.'),
    ('content',     'release_notes',     'Describe what changed in a release for its users.'),
    ('operations',  'vendor_management', 'Select, review or manage a supplier relationship.'),
    ('operations',  'procurement',       'Buy goods or services, from quote to purchase order.'),
    ('operations',  'compliance',        'Meet a legal, regulatory or policy obligation.'),
    ('research',    'market_research',   'Size and describe a market and its customers.'),
    ('research',    'competitor_analysis', 'Compare competitors'' products, pricing and positioning.'),
    ('research',    'user_interviews',   'Plan, run and summarise interviews with users.');

-- One row per task that has details; tasks created through contracts before
-- create_task@0.2.0 have none. A task_type needs its category; the pair must
-- be in the taxonomy (SQLite skips a foreign key with a NULL column, and
-- cannot reference category alone, which is not unique, so the store checks
-- a category given without a task_type itself). labels is a JSON array of
-- strings, '[]' when there are none.
CREATE TABLE task_details (
    task_id      TEXT PRIMARY KEY REFERENCES tasks (id),
    budget_usd   REAL CHECK (budget_usd >= 0),
    category     TEXT,
    task_type    TEXT,
    requirements TEXT CHECK (requirements IS NULL OR iif(json_valid(requirements), json_type(requirements) = 'object', 0)),
    expires_at   TEXT,
    labels       TEXT NOT NULL DEFAULT '[]' CHECK (iif(json_valid(labels), json_type(labels) = 'array', 0)),
    CHECK (task_type IS NULL OR category IS NOT NULL),
    FOREIGN KEY (category, task_type) REFERENCES task_types (category, task_type)
) STRICT;
