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

-- Realms made before scope mappings were stored get the two a new realm
-- has: the offline_access scope maps the offline_access role, and the
-- account console (which has no full scope) the account roles its pages use.
INSERT INTO scope_role_scopes (scope_id, role_id)
SELECT s.id, r.id FROM client_scopes s
JOIN roles r ON r.realm_id = s.realm_id AND r.client_id = '' AND r.name = 'offline_access'
WHERE s.name = 'offline_access'
ON CONFLICT DO NOTHING;

INSERT INTO client_role_scopes (client_id, role_id)
SELECT ac.id, r.id FROM clients ac
JOIN clients a ON a.realm_id = ac.realm_id AND a.client_id = 'account'
JOIN roles r ON r.client_id = a.id AND r.name IN ('manage-account', 'view-groups')
WHERE ac.client_id = 'account-console'
ON CONFLICT DO NOTHING;

-- +goose Down
DROP TABLE scope_role_scopes;
DROP TABLE client_role_scopes;
