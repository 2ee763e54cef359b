-- +goose Up
-- Device authorization grants (RFC 8628) in progress. The device code is
-- stored by its SHA-256, like an authorization code, so a database reader
-- cannot poll with it; the user code is what the user types on the
-- verification page (upper case, no dash). status is pending, approved or
-- denied; user_session_id is set on approval. last_polled (epoch
-- milliseconds) enforces the polling interval across nodes.
CREATE TABLE device_codes (
    device_hash     TEXT PRIMARY KEY,
    realm_id        TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    client_id       TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    user_code       TEXT NOT NULL,
    scope           TEXT NOT NULL,
    nonce           TEXT NOT NULL,
    expires_at      INTEGER NOT NULL,
    poll_interval   INTEGER NOT NULL,
    last_polled     INTEGER NOT NULL,
    status          TEXT NOT NULL,
    user_session_id TEXT NOT NULL
);
CREATE UNIQUE INDEX device_codes_user_code ON device_codes(realm_id, user_code);
CREATE INDEX device_codes_expiry ON device_codes(expires_at);

-- +goose Down
DROP TABLE device_codes;
