-- +goose Up
-- The first result of each write made with an idempotency key, replayed
-- on retries for 24 hours. Stored in the tenant's own schema, in the same
-- transaction as the write, so a result is kept exactly when the write
-- happened.
CREATE TABLE idempotency_keys (
    key        text COLLATE "C" PRIMARY KEY,
    capability text NOT NULL,
    args_hash  text NOT NULL,
    result     bytea NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
