-- +goose Up
-- The first result of each write made with an idempotency key, replayed
-- on retries for 24 hours. Stored in the tenant's own database, in the
-- same transaction as the write, so a result is kept exactly when the
-- write happened.
CREATE TABLE idempotency_keys (
    key        TEXT PRIMARY KEY,
    capability TEXT NOT NULL,
    args_hash  TEXT NOT NULL,
    result     BLOB NOT NULL,
    created_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
