-- +goose Up
-- Indexes for the paths that must not slow down as a realm grows (the
-- admin user search, session listings, the expiry cleanup); the test
-- TestPathsUseIndexes asks the planner about every statement they run.
--
-- The search matches usernames, emails (both stored in lower case) and
-- lower-cased names by prefix with LIKE, which uses a B-tree index only
-- when it compares characters rather than the collation's order
-- (text_pattern_ops).
CREATE INDEX users_search_username ON users(realm_id, username text_pattern_ops);
CREATE INDEX users_search_email ON users(realm_id, email text_pattern_ops);
CREATE INDEX users_search_first_name ON users(realm_id, lower(first_name) text_pattern_ops);
CREATE INDEX users_search_last_name ON users(realm_id, lower(last_name) text_pattern_ops);

-- Custom attributes, one row per value, beside the JSON document the user
-- is read from: what the attribute search (q=name:value) looks values up
-- in. value is lower case and cut to 255 characters, so that the index
-- stays small and a longer value still narrows the search, which then
-- checks the full value on the document.
CREATE TABLE user_attributes (
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    realm_id TEXT NOT NULL,
    name     TEXT NOT NULL,
    value    TEXT NOT NULL
);
CREATE INDEX user_attributes_value ON user_attributes(realm_id, name, value);
CREATE INDEX user_attributes_user ON user_attributes(user_id);
INSERT INTO user_attributes (user_id, realm_id, name, value)
SELECT u.id, u.realm_id, a.key, substr(lower(v.value), 1, 255)
FROM users u
CROSS JOIN LATERAL json_each(u.attributes::json) AS a
CROSS JOIN LATERAL json_array_elements_text(a.value) AS v(value);

-- The cleanup deletes sessions idle too long or started too long ago: both
-- bounds need an index for the OR to be answered from indexes.
CREATE INDEX user_sessions_started ON user_sessions(realm_id, offline, started);

-- A user's sessions, looked up by user id alone when the user is deleted
-- (the foreign key's cascade) as well as with the realm.
CREATE INDEX user_sessions_user_realm ON user_sessions(user_id, realm_id);
DROP INDEX user_sessions_user;

-- +goose Down
CREATE INDEX user_sessions_user ON user_sessions(realm_id, user_id);
DROP INDEX user_sessions_user_realm;
DROP INDEX user_sessions_started;
DROP TABLE user_attributes;
DROP INDEX users_search_last_name;
DROP INDEX users_search_first_name;
DROP INDEX users_search_email;
DROP INDEX users_search_username;
