-- +goose Up
-- A key may pin capability versions: what a bare name resolves to for it.
-- Stored as comma-separated name@version; '' pins nothing.
ALTER TABLE api_keys ADD COLUMN pins TEXT NOT NULL DEFAULT '';
