-- +goose Up
-- A realm's authentication model (flows, authenticator configs, required
-- actions, flow bindings) as one document in Keycloak's representation,
-- package flow's Config. A realm without a row has the built-in model.
CREATE TABLE auth_config (
    realm_id TEXT PRIMARY KEY REFERENCES realms(id) ON DELETE CASCADE,
    document TEXT NOT NULL
);

-- +goose Down
DROP TABLE auth_config;
