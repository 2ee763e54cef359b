-- +goose Up
-- Permission tickets of user-managed access: a requester's access to one
-- scope of a resource its owner manages (scope_id NULL: the resource as a
-- whole). A ticket is pending until granted_at is set. A granted ticket is
-- backed by a "uma" permission (policy_id), shared by the tickets of one
-- owner, requester and resource. A deleted resource, scope, requester or
-- resource server takes its tickets with it.
CREATE TABLE authz_permission_tickets (
    id          TEXT PRIMARY KEY,
    realm_id    TEXT NOT NULL,
    server_id   TEXT NOT NULL REFERENCES authz_resource_servers(id) ON DELETE CASCADE,
    resource_id TEXT NOT NULL REFERENCES authz_resources(id) ON DELETE CASCADE,
    scope_id    TEXT REFERENCES authz_scopes(id) ON DELETE CASCADE,
    owner       TEXT NOT NULL,
    requester   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    granted_at  BIGINT NOT NULL DEFAULT 0,
    policy_id   TEXT REFERENCES authz_policies(id) ON DELETE SET NULL
);
-- One ticket per requester, resource and scope (or no scope).
CREATE UNIQUE INDEX authz_permission_tickets_unique
    ON authz_permission_tickets(server_id, resource_id, requester, COALESCE(scope_id, ''));
CREATE INDEX authz_permission_tickets_owner ON authz_permission_tickets(realm_id, owner);
CREATE INDEX authz_permission_tickets_requester ON authz_permission_tickets(realm_id, requester);

-- +goose Down
DROP TABLE authz_permission_tickets;
