-- +goose Up
-- Brute-force detection (Keycloak's UserLoginFailureModel): one row per user
-- with failures on record. Times are epoch milliseconds. A permanent lockout
-- is not kept here: like Keycloak it disables the user and sets the user
-- attribute disabledReason=permanentLockout.
CREATE TABLE login_failures (
    user_id                TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    realm_id               TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    num_failures           INTEGER NOT NULL,
    last_failure           INTEGER NOT NULL,
    last_ip                TEXT NOT NULL,
    num_temporary_lockouts INTEGER NOT NULL,
    locked_until           INTEGER NOT NULL
);
CREATE INDEX login_failures_realm ON login_failures(realm_id);

-- +goose Down
DROP TABLE login_failures;
