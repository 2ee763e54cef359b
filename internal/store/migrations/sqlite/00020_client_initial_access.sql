-- +goose Up
-- Initial access tokens of dynamic client registration. The token itself is
-- a signed JWT naming the row's id; the row holds what limits it: when it was
-- made, how many seconds it lives (0: no expiry), how many registrations it
-- allows and how many are left.
CREATE TABLE client_initial_access (
    id              TEXT PRIMARY KEY,
    realm_id        TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    created_at      BIGINT NOT NULL,
    expiration      INTEGER NOT NULL,
    count           INTEGER NOT NULL,
    remaining_count INTEGER NOT NULL
);
CREATE INDEX client_initial_access_realm ON client_initial_access(realm_id);

-- +goose Down
DROP TABLE client_initial_access;
