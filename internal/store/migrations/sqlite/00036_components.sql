-- +goose Up
-- Generic realm components other than keys and registration policies: user
-- storage providers (LDAP) and their mappers, a mapper's parent_id naming
-- its provider. config is the component's settings as a JSON object of
-- string lists, secrets (bindCredential) included as given: the admin API
-- and exports mask them.
CREATE TABLE components (
    id            TEXT PRIMARY KEY,
    realm_id      TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    parent_id     TEXT NOT NULL,
    name          TEXT NOT NULL,
    provider_id   TEXT NOT NULL,
    provider_type TEXT NOT NULL,
    sub_type      TEXT NOT NULL,
    config        TEXT NOT NULL
);
CREATE INDEX components_realm ON components(realm_id, provider_type);
CREATE INDEX components_parent ON components(parent_id);

-- Periodic synchronisation of a user storage provider: which node holds
-- the lease to run it and until when (epoch milliseconds), and when each
-- kind of sync last finished. A lease is a row, not node memory, so one node
-- of a cluster runs a provider's sync at a time.
CREATE TABLE sync_state (
    component_id      TEXT PRIMARY KEY REFERENCES components(id) ON DELETE CASCADE,
    realm_id          TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    holder            TEXT NOT NULL,
    lease_until       BIGINT NOT NULL,
    last_full_sync    BIGINT NOT NULL,
    last_changed_sync BIGINT NOT NULL
);

-- Sync and provider removal find a provider's imported users.
CREATE INDEX users_federation_link ON users(realm_id, federation_link);

-- +goose Down
DROP INDEX users_federation_link;
DROP TABLE sync_state;
DROP TABLE components;
