-- +goose Up
-- Whether a call was answered from an idempotency key's stored result.
ALTER TABLE calls ADD COLUMN replayed INTEGER NOT NULL DEFAULT 0 CHECK (replayed IN (0, 1));
