-- +goose Up
-- A key provider component's name and its non-secret settings (keySize,
-- secretSize, curve, …) as JSON, so the admin API and exports give back
-- what was configured. Key material stays in private and certificate.
ALTER TABLE realm_keys ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE realm_keys ADD COLUMN config TEXT NOT NULL DEFAULT '{}';
-- Existing keys take the names their providers give new realms' keys.
UPDATE realm_keys SET name = CASE WHEN provider_id = 'hmac-generated' AND algorithm = 'HS512'
    THEN 'hmac-generated-hs512' ELSE provider_id END;

-- +goose Down
ALTER TABLE realm_keys DROP COLUMN config;
ALTER TABLE realm_keys DROP COLUMN name;
