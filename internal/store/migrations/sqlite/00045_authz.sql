-- +goose Up
-- Authorization services. A client that is a resource server has one row
-- in authz_resource_servers (its id is the client's id, so deleting the
-- client removes everything below). Resources, scopes and policies
-- (permissions are policies of type "resource" or "scope") keep the columns
-- they are looked up by beside one JSON document of their other fields.
-- The association tables keep the order things were given in (pos), so an
-- export lists them as they were imported.
CREATE TABLE authz_resource_servers (
    id       TEXT PRIMARY KEY REFERENCES clients(id) ON DELETE CASCADE,
    realm_id TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    data     TEXT NOT NULL
);

-- A resource's name is unique per owner within its server.
CREATE TABLE authz_resources (
    id        TEXT PRIMARY KEY,
    server_id TEXT NOT NULL REFERENCES authz_resource_servers(id) ON DELETE CASCADE,
    realm_id  TEXT NOT NULL,
    name      TEXT NOT NULL,
    owner     TEXT NOT NULL,
    data      TEXT NOT NULL,
    UNIQUE (server_id, name, owner)
);
CREATE INDEX authz_resources_owner ON authz_resources(realm_id, owner);

CREATE TABLE authz_scopes (
    id        TEXT PRIMARY KEY,
    server_id TEXT NOT NULL REFERENCES authz_resource_servers(id) ON DELETE CASCADE,
    name      TEXT NOT NULL,
    data      TEXT NOT NULL,
    UNIQUE (server_id, name)
);

CREATE TABLE authz_resource_scopes (
    resource_id TEXT NOT NULL REFERENCES authz_resources(id) ON DELETE CASCADE,
    scope_id    TEXT NOT NULL REFERENCES authz_scopes(id) ON DELETE CASCADE,
    pos         INTEGER NOT NULL,
    PRIMARY KEY (resource_id, scope_id)
);
CREATE INDEX authz_resource_scopes_scope ON authz_resource_scopes(scope_id);

CREATE TABLE authz_policies (
    id        TEXT PRIMARY KEY,
    server_id TEXT NOT NULL REFERENCES authz_resource_servers(id) ON DELETE CASCADE,
    realm_id  TEXT NOT NULL,
    name      TEXT NOT NULL,
    type      TEXT NOT NULL,
    data      TEXT NOT NULL,
    UNIQUE (server_id, name)
);
CREATE INDEX authz_policies_type ON authz_policies(realm_id, type);

CREATE TABLE authz_policy_policies (
    policy_id     TEXT NOT NULL REFERENCES authz_policies(id) ON DELETE CASCADE,
    associated_id TEXT NOT NULL REFERENCES authz_policies(id) ON DELETE CASCADE,
    pos           INTEGER NOT NULL,
    PRIMARY KEY (policy_id, associated_id)
);
CREATE INDEX authz_policy_policies_associated ON authz_policy_policies(associated_id);

CREATE TABLE authz_policy_resources (
    policy_id   TEXT NOT NULL REFERENCES authz_policies(id) ON DELETE CASCADE,
    resource_id TEXT NOT NULL REFERENCES authz_resources(id) ON DELETE CASCADE,
    pos         INTEGER NOT NULL,
    PRIMARY KEY (policy_id, resource_id)
);
CREATE INDEX authz_policy_resources_resource ON authz_policy_resources(resource_id);

CREATE TABLE authz_policy_scopes (
    policy_id TEXT NOT NULL REFERENCES authz_policies(id) ON DELETE CASCADE,
    scope_id  TEXT NOT NULL REFERENCES authz_scopes(id) ON DELETE CASCADE,
    pos       INTEGER NOT NULL,
    PRIMARY KEY (policy_id, scope_id)
);
CREATE INDEX authz_policy_scopes_scope ON authz_policy_scopes(scope_id);

-- +goose Down
DROP TABLE authz_policy_scopes;
DROP TABLE authz_policy_resources;
DROP TABLE authz_policy_policies;
DROP TABLE authz_policies;
DROP TABLE authz_resource_scopes;
DROP TABLE authz_scopes;
DROP TABLE authz_resources;
DROP TABLE authz_resource_servers;
