-- +goose Up
-- The work of a task: its actions (sub-steps), its runs (executions by an
-- agent) with their logs and artifacts, the category/task_type taxonomy and
-- the details a task gained with projects.create_task@0.2.0. Conventions as
-- in 0001.

-- NULL when the task was not cancelled or no reason was given.
ALTER TABLE tasks ADD COLUMN cancel_reason text;

CREATE TABLE task_actions (
    id          text COLLATE "C" PRIMARY KEY,
    task_id     text COLLATE "C" NOT NULL REFERENCES tasks (id),
    title       text NOT NULL CHECK (title <> ''),
    notes       text NOT NULL,
    assignee_id text COLLATE "C" REFERENCES staff (id),
    state       text NOT NULL CHECK (state IN ('open', 'done', 'cancelled')),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE INDEX task_actions_task ON task_actions (task_id, id);

-- output and state are JSON objects. json rather than jsonb: json keeps the
-- text exactly as written (key order, spacing), so a read returns the bytes
-- the caller stored, as the SQLite store does. A run is finished exactly
-- when it is no longer running.
CREATE TABLE task_runs (
    id            text COLLATE "C" PRIMARY KEY,
    task_id       text COLLATE "C" NOT NULL REFERENCES tasks (id),
    status        text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
    branch        text,
    stage         text,
    output        json CHECK (output IS NULL OR json_typeof(output) = 'object'),
    state         json CHECK (state IS NULL OR json_typeof(state) = 'object'),
    error_message text,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    finished_at   timestamptz,
    CHECK ((status = 'running') = (finished_at IS NULL))
);

CREATE INDEX task_runs_task ON task_runs (task_id, id);
-- Cancelling a task looks for its running runs; finished runs, the vast
-- majority, stay out of this index.
CREATE INDEX task_runs_running ON task_runs (task_id) WHERE status = 'running';

-- Every read is a range scan of one run's (run_id, seq) key range, which
-- the primary key's index serves.
CREATE TABLE task_run_logs (
    run_id  text COLLATE "C" NOT NULL REFERENCES task_runs (id),
    seq     bigint NOT NULL CHECK (seq > 0),
    level   text NOT NULL,
    message text NOT NULL,
    at      timestamptz NOT NULL,
    PRIMARY KEY (run_id, seq)
);

-- size and sha256 are the caller's; the CHECKs make sure they describe the
-- stored bytes' length and are lowercase hex. A listing selects every
-- column but content, which PostgreSQL keeps out of line (TOAST) once it
-- is large, so listings do not read it.
CREATE TABLE task_run_artifacts (
    id           text COLLATE "C" PRIMARY KEY,
    run_id       text COLLATE "C" NOT NULL REFERENCES task_runs (id),
    name         text NOT NULL CHECK (name <> ''),
    content_type text NOT NULL CHECK (content_type <> ''),
    size         bigint NOT NULL CHECK (size >= 0),
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    created_at   timestamptz NOT NULL,
    content      bytea NOT NULL,
    CHECK (size = octet_length(content))
);

CREATE INDEX task_run_artifacts_run ON task_run_artifacts (run_id, id);

-- Names are lowercase snake_case, so they can be shown, typed and matched
-- without case folding.
CREATE TABLE task_types (
    category    text COLLATE "C" NOT NULL CHECK (category ~ '^[a-z][a-z0-9_]*$'),
    task_type   text COLLATE "C" NOT NULL CHECK (task_type ~ '^[a-z][a-z0-9_]*$'),
    description text NOT NULL,
    PRIMARY KEY (category, task_type)
);

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
-- be in the taxonomy (a foreign key with a NULL column is not checked, MATCH
-- SIMPLE, and category alone is not unique, so the store checks a category
-- given without a task_type itself). labels is a JSON array of strings,
-- '[]' when there are none.
CREATE TABLE task_details (
    task_id      text COLLATE "C" PRIMARY KEY REFERENCES tasks (id),
    budget_usd   double precision CHECK (budget_usd >= 0),
    category     text COLLATE "C",
    task_type    text COLLATE "C",
    requirements json CHECK (requirements IS NULL OR json_typeof(requirements) = 'object'),
    expires_at   timestamptz,
    labels       json NOT NULL DEFAULT '[]' CHECK (json_typeof(labels) = 'array'),
    CHECK (task_type IS NULL OR category IS NOT NULL),
    FOREIGN KEY (category, task_type) REFERENCES task_types (category, task_type)
);
