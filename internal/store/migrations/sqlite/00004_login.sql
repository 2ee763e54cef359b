-- +goose Up
-- A login in progress (Keycloak's authentication session): the
-- authorization request being served, keyed by the AUTH_SESSION_ID cookie.
CREATE TABLE auth_sessions (
    id         TEXT PRIMARY KEY,
    realm_id   TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    data       TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX auth_sessions_expiry ON auth_sessions(expires_at);

-- Authorization codes, stored by the SHA-256 of the code so a database
-- reader cannot redeem them. used_at makes them single-use atomically.
CREATE TABLE auth_codes (
    code_hash         TEXT PRIMARY KEY,
    realm_id          TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    client_id         TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    user_session_id   TEXT NOT NULL,
    data              TEXT NOT NULL,
    expires_at        INTEGER NOT NULL,
    used_at           INTEGER NOT NULL
);
CREATE INDEX auth_codes_expiry ON auth_codes(expires_at);

-- +goose Down
DROP TABLE auth_codes;
DROP TABLE auth_sessions;
