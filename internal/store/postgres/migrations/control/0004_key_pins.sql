-- +goose Up
-- A key may pin capability versions: what a bare name resolves to for it.
-- A JSON object of name -> exact version; '{}' pins nothing.
ALTER TABLE api_keys ADD COLUMN pins jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(pins) = 'object');

-- +goose Down
ALTER TABLE api_keys DROP COLUMN pins;
