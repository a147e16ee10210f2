-- +goose Up
-- Whether a call was answered from an idempotency key's stored result.
ALTER TABLE calls ADD COLUMN replayed boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE calls DROP COLUMN replayed;
