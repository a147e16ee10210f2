-- +goose Up
-- Conformance results: one row per case run against one provider instance.
-- The catalog reads the newest rows per capability, provider or run.
CREATE TABLE conformance_results (
    id          INTEGER PRIMARY KEY,
    run_id      TEXT NOT NULL,
    provider    TEXT NOT NULL,
    capability  TEXT NOT NULL,
    version     TEXT NOT NULL,
    case_id     TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('happy', 'rejection', 'generated')),
    outcome     TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'error')),
    duration_us INTEGER NOT NULL,
    started_at  TEXT NOT NULL,
    message     TEXT NOT NULL
) STRICT;

CREATE INDEX conformance_results_run ON conformance_results (run_id);
CREATE INDEX conformance_results_capability ON conformance_results (capability, version, started_at);
CREATE INDEX conformance_results_provider ON conformance_results (provider, started_at);
CREATE INDEX conformance_results_started ON conformance_results (started_at);
