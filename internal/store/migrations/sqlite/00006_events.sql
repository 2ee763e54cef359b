-- +goose Up
-- Login events and admin events (Keycloak's EVENT_ENTITY and
-- ADMIN_EVENT_ENTITY), kept per realm while the realm enables them and
-- removed by the realm's expiration. seq orders events recorded within the
-- same millisecond, so paging is stable. Free text (details,
-- representation) is JSON that package events has already cleaned of
-- secrets.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    realm_id   TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    event_time INTEGER NOT NULL,
    type       TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    session_id TEXT NOT NULL,
    ip_address TEXT NOT NULL,
    error      TEXT NOT NULL,
    details    TEXT NOT NULL
);
CREATE INDEX events_realm_time ON events(realm_id, event_time);

CREATE TABLE admin_events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    realm_id        TEXT NOT NULL REFERENCES realms(id) ON DELETE CASCADE,
    event_time      INTEGER NOT NULL,
    operation_type  TEXT NOT NULL,
    resource_type   TEXT NOT NULL,
    resource_path   TEXT NOT NULL,
    auth_realm_id   TEXT NOT NULL,
    auth_client_id  TEXT NOT NULL,
    auth_user_id    TEXT NOT NULL,
    auth_ip_address TEXT NOT NULL,
    representation  TEXT NOT NULL,
    error           TEXT NOT NULL
);
CREATE INDEX admin_events_realm_time ON admin_events(realm_id, event_time);

-- +goose Down
DROP TABLE admin_events;
DROP TABLE events;
