-- +goose Up
-- A key provider component's name and its non-secret settings (keySize,
-- secretSize, curve, …) as JSON, so the admin API and exports give back
-- what was configured. Key material stays in private and certificate.
ALTER TABLE realm_keys ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE realm_keys ADD COLUMN config TEXT NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE realm_keys DROP COLUMN config;
ALTER TABLE realm_keys DROP COLUMN name;
