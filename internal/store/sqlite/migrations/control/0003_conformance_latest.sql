-- +goose Up
-- Serves "the newest result of each case on each provider instance", which
-- the catalog's badges and provider matrix read on every page.
CREATE INDEX conformance_results_case ON conformance_results (provider, capability, version, case_id, started_at);
