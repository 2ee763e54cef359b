-- +goose Up
-- Pushed authorization requests (RFC 9126): the parameters a client pushed,
-- kept until the request_uri naming them is used once or expires. Stored
-- here, not in a node's memory, so any node can serve the authorization
-- request that follows.
CREATE TABLE pushed_requests (
    id         TEXT PRIMARY KEY,
    realm_id   TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    params     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX pushed_requests_expiry ON pushed_requests(expires_at);

-- +goose Down
DROP TABLE pushed_requests;
