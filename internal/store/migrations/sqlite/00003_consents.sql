-- +goose Up
-- A user's consent to a client: the client scopes the user granted. Offline
-- access granted through a consent-less client is tracked by its offline
-- sessions; revoking "the grant" removes both.
CREATE TABLE user_consents (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    scope_ids  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX user_consents_client ON user_consents(client_id);

-- +goose Down
DROP TABLE user_consents;
