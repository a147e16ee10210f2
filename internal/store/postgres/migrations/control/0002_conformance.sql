-- +goose Up
-- Conformance results: one row per case run against one provider instance.
-- The catalog reads the newest rows per capability, provider or run.
CREATE TABLE conformance_results (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id      text NOT NULL,
    provider    text NOT NULL,
    capability  text NOT NULL,
    version     text NOT NULL,
    case_id     text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('happy', 'rejection', 'generated')),
    outcome     text NOT NULL CHECK (outcome IN ('pass', 'fail', 'error')),
    duration_us bigint NOT NULL,
    started_at  timestamptz NOT NULL,
    message     text NOT NULL
);

CREATE INDEX conformance_results_run ON conformance_results (run_id);
CREATE INDEX conformance_results_capability ON conformance_results (capability, version, started_at);
CREATE INDEX conformance_results_provider ON conformance_results (provider, started_at);
CREATE INDEX conformance_results_started ON conformance_results (started_at);

-- +goose Down
DROP TABLE conformance_results;
