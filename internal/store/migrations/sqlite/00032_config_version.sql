-- +goose Up
-- The configuration version: one number, raised in the same transaction as
-- every write to a configuration table (realms, clients, client scopes,
-- roles, groups, keys, the authentication model...). A node caches
-- configuration under the version it read and reads the version again on
-- each request, so a cache can never outlive the write that made it stale.
CREATE TABLE config_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO config_version (id, version) VALUES (1, 1);

-- +goose Down
DROP TABLE config_version;
