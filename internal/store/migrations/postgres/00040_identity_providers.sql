-- +goose Up
-- Identity brokering. A realm's identity providers, each with its settings
-- as one document (package idp's Provider without its id, realm and alias);
-- its mappers, which follow the provider's internal id so that renaming the
-- provider keeps them and deleting it removes them; and the links between
-- users and their accounts at a provider (federated identities), removed
-- with the user or the provider. A provider account links to one user, and a
-- user has at most one link per provider.
CREATE TABLE identity_providers (
    id       TEXT PRIMARY KEY,
    realm_id TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    alias    TEXT NOT NULL,
    data     TEXT NOT NULL,
    UNIQUE (realm_id, alias)
);

CREATE TABLE identity_provider_mappers (
    id          TEXT PRIMARY KEY,
    realm_id    TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    provider_id TEXT NOT NULL REFERENCES identity_providers(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    data        TEXT NOT NULL,
    UNIQUE (provider_id, name)
);

CREATE TABLE federated_identities (
    user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    realm_id           TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    provider_id        TEXT NOT NULL REFERENCES identity_providers(id) ON DELETE CASCADE,
    federated_user_id  TEXT NOT NULL,
    federated_username TEXT NOT NULL,
    token              TEXT NOT NULL,
    PRIMARY KEY (user_id, provider_id),
    UNIQUE (provider_id, federated_user_id)
);

-- +goose Down
DROP TABLE federated_identities;
DROP TABLE identity_provider_mappers;
DROP TABLE identity_providers;
