-- +goose Up
-- A group's description, which Keycloak 26 groups carry beside the name.
ALTER TABLE realm_groups ADD COLUMN description TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE realm_groups DROP COLUMN description;
