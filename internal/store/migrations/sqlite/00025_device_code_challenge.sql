-- +goose Up
-- The PKCE challenge (RFC 7636) a device authorization request carried,
-- checked against the code_verifier when the device code is redeemed;
-- both '' without PKCE.
ALTER TABLE device_codes ADD COLUMN code_challenge TEXT NOT NULL DEFAULT '';
ALTER TABLE device_codes ADD COLUMN code_challenge_method TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE device_codes DROP COLUMN code_challenge_method;
ALTER TABLE device_codes DROP COLUMN code_challenge;
