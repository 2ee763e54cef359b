-- +goose Up
-- Which user storage provider granted a direct role mapping ('' for one
-- granted here: by an administrator, an import, a default role). A
-- provider's role mapper takes back only the mappings it granted.
ALTER TABLE user_roles ADD COLUMN source TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE user_roles DROP COLUMN source;
