-- +goose Up
-- Sessions live in the database so that any node can serve any request and a
-- restart loses nothing. Times are epoch seconds, the session clock.
CREATE TABLE user_sessions (
    id           TEXT PRIMARY KEY,
    realm_id     TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    offline      BOOLEAN NOT NULL,
    started      BIGINT NOT NULL,
    last_refresh BIGINT NOT NULL,
    remember_me  BOOLEAN NOT NULL,
    ip_address   TEXT NOT NULL,
    auth_method  TEXT NOT NULL,
    auth_time    BIGINT NOT NULL,
    notes        TEXT NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions(realm_id, user_id);
CREATE INDEX user_sessions_refresh ON user_sessions(realm_id, offline, last_refresh);

CREATE TABLE client_sessions (
    id                    TEXT PRIMARY KEY,
    user_session_id       TEXT NOT NULL REFERENCES user_sessions(id) ON DELETE CASCADE,
    client_id             TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    offline               BOOLEAN NOT NULL,
    started               BIGINT NOT NULL,
    ts                    BIGINT NOT NULL,
    current_refresh_token TEXT NOT NULL,
    refresh_use_count     INTEGER NOT NULL,
    scope                 TEXT NOT NULL,
    nonce                 TEXT NOT NULL,
    notes                 TEXT NOT NULL,
    UNIQUE (user_session_id, client_id)
);
CREATE INDEX client_sessions_client ON client_sessions(client_id);

-- Access tokens revoked before their expiry (RFC 7009), by jti.
CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    realm_id   TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens(expires_at);

-- +goose Down
DROP TABLE revoked_tokens;
DROP TABLE client_sessions;
DROP TABLE user_sessions;
