-- +goose Up
-- Times are UTC epoch milliseconds (Keycloak's convention). Ids are text
-- (UUIDs, or names Keycloak chose for built-in objects). Aggregates whose
-- fields are only ever read together (realm settings, client settings) are
-- kept as one JSON document beside the columns we look them up by.
CREATE TABLE realms (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    enabled    BOOLEAN NOT NULL,
    settings   TEXT NOT NULL
);

CREATE TABLE client_scopes (
    id          TEXT PRIMARY KEY,
    realm_id    TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    data        TEXT NOT NULL,
    UNIQUE (realm_id, name)
);

CREATE TABLE clients (
    id        TEXT PRIMARY KEY,
    realm_id  TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    data      TEXT NOT NULL,
    UNIQUE (realm_id, client_id)
);

-- A client's default and optional scopes; client_id '' holds the realm's
-- defaults for new clients.
CREATE TABLE client_scope_links (
    realm_id   TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    scope_id   TEXT NOT NULL REFERENCES client_scopes(id) ON DELETE CASCADE,
    is_default BOOLEAN NOT NULL,
    PRIMARY KEY (realm_id, client_id, scope_id)
);
CREATE INDEX client_scope_links_scope ON client_scope_links(scope_id);

-- client_id is '' for realm roles so the uniqueness rule covers both kinds.
CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    realm_id    TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    attributes  TEXT NOT NULL,
    UNIQUE (realm_id, client_id, name)
);

CREATE TABLE role_composites (
    parent_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    child_id  TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (parent_id, child_id)
);
CREATE INDEX role_composites_child ON role_composites(child_id);

CREATE TABLE realm_groups (
    id         TEXT PRIMARY KEY,
    realm_id   TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    parent_id  TEXT NOT NULL,
    name       TEXT NOT NULL,
    attributes TEXT NOT NULL,
    UNIQUE (realm_id, parent_id, name)
);

CREATE TABLE group_roles (
    group_id TEXT NOT NULL REFERENCES realm_groups(id) ON DELETE CASCADE,
    role_id  TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, role_id)
);
CREATE INDEX group_roles_role ON group_roles(role_id);

CREATE TABLE users (
    id                 TEXT PRIMARY KEY,
    realm_id           TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    username           TEXT NOT NULL,
    email              TEXT NOT NULL,
    first_name         TEXT NOT NULL,
    last_name          TEXT NOT NULL,
    enabled            BOOLEAN NOT NULL,
    email_verified     BOOLEAN NOT NULL,
    created_at         INTEGER NOT NULL,
    service_account_of TEXT NOT NULL,
    federation_link    TEXT NOT NULL,
    not_before         INTEGER NOT NULL,
    attributes         TEXT NOT NULL,
    required_actions   TEXT NOT NULL,
    UNIQUE (realm_id, username)
);
CREATE INDEX users_email ON users(realm_id, email);
CREATE INDEX users_service_account ON users(service_account_of);

CREATE TABLE credentials (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    type            TEXT NOT NULL,
    user_label      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    secret_data     TEXT NOT NULL,
    credential_data TEXT NOT NULL,
    priority        INTEGER NOT NULL
);
CREATE INDEX credentials_user ON credentials(user_id);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role ON user_roles(role_id);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES realm_groups(id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members(user_id);

CREATE TABLE realm_keys (
    id          TEXT PRIMARY KEY,
    realm_id    TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    kid         TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    algorithm   TEXT NOT NULL,
    use         TEXT NOT NULL,
    priority    INTEGER NOT NULL,
    enabled     BOOLEAN NOT NULL,
    active      BOOLEAN NOT NULL,
    private     BLOB NOT NULL,
    certificate BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (realm_id, kid)
);

-- +goose Down
DROP TABLE realm_keys;
DROP TABLE group_members;
DROP TABLE user_roles;
DROP TABLE credentials;
DROP TABLE users;
DROP TABLE group_roles;
DROP TABLE realm_groups;
DROP TABLE role_composites;
DROP TABLE roles;
DROP TABLE client_scope_links;
DROP TABLE clients;
DROP TABLE client_scopes;
DROP TABLE realms;
