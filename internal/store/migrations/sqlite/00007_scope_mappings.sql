-- +goose Up
-- Role scope mappings: the roles a client (with full scope off) or a client
-- scope lets into the tokens it takes part in. Each row goes with its
-- client, scope or role.
CREATE TABLE client_role_scopes (
    client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    role_id   TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (client_id, role_id)
);
CREATE INDEX client_role_scopes_role ON client_role_scopes(role_id);

CREATE TABLE scope_role_scopes (
    scope_id TEXT NOT NULL REFERENCES client_scopes(id) ON DELETE CASCADE,
    role_id  TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (scope_id, role_id)
);
CREATE INDEX scope_role_scopes_role ON scope_role_scopes(role_id);

-- +goose Down
DROP TABLE scope_role_scopes;
DROP TABLE client_role_scopes;
