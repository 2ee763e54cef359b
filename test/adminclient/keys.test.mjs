// openid-client, a certified OpenID relying party library, against realms
// signing with ES256 and with Ed25519 (EdDSA). adminclient_test.go starts
// the server and runs this file with GATEHOUSE_URL set. Each realm's only
// key provider is the one under test, as in a realm file exported from
// such a Keycloak realm; openid-client finds the keys through discovery
// and, with non-repudiation checks on, verifies every ID token and signed
// userinfo response against the realm's JWKS.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as client from "openid-client";
import { adminToken, baseUrl } from "./gatehouse.mjs";

function header(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[0], "base64url").toString());
}

for (const { realm, alg, provider, config } of [
  { realm: "ec-node", alg: "ES256", provider: "ecdsa-generated", config: { ecdsaEllipticCurveKey: ["P-256"] } },
  { realm: "ed-node", alg: "EdDSA", provider: "eddsa-generated", config: { eddsaEllipticCurveKey: ["Ed25519"] } },
]) {
  describe(`${alg} realm`, () => {
    it("imports with its only key provider", async () => {
      const res = await fetch(`${baseUrl}/admin/realms`, {
        method: "POST",
        headers: { authorization: `Bearer ${await adminToken()}`, "content-type": "application/json" },
        body: JSON.stringify({
          realm, enabled: true, defaultSignatureAlgorithm: alg,
          components: { "org.keycloak.keys.KeyProvider": [{ name: provider, providerId: provider, config }] },
          clients: [{
            clientId: "app", secret: "app-secret", publicClient: false, enabled: true,
            directAccessGrantsEnabled: true, serviceAccountsEnabled: true,
            attributes: { "userinfo.token.signed.response.alg": alg },
          }],
          users: [{ username: "alice", enabled: true, email: "alice@example.com", emailVerified: true,
            credentials: [{ type: "password", value: "pw-alice", temporary: false }] }],
        }),
      });
      assert.equal(res.status, 201, await res.text());
    });

    it("issues tokens openid-client verifies through discovery", async () => {
      const config = await client.discovery(
        new URL(`${baseUrl}/realms/${realm}`), "app",
        { client_secret: "app-secret", id_token_signed_response_alg: alg, userinfo_signed_response_alg: alg },
        client.ClientSecretPost("app-secret"),
        { execute: [client.allowInsecureRequests] },
      );
      assert.ok(config.serverMetadata().id_token_signing_alg_values_supported.includes(alg), "discovery lists the algorithm");
      client.enableNonRepudiationChecks(config);

      const tokens = await client.genericGrantRequest(config, "password", { username: "alice", password: "pw-alice", scope: "openid" });
      assert.equal(header(tokens.id_token).alg, alg, "ID token alg");
      assert.equal(header(tokens.access_token).alg, alg, "access token alg");
      const claims = tokens.claims();
      assert.equal(claims.preferred_username, "alice");

      const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      assert.equal(info.preferred_username, "alice", "signed userinfo");

      const cc = await client.clientCredentialsGrant(config);
      assert.equal(header(cc.access_token).alg, alg, "client_credentials token alg");
    });
  });
}
