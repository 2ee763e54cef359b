// DPoP (RFC 9449) with openid-client, a certified relying party library:
// it makes the proofs itself (getDPoPHandle), obtains DPoP-bound tokens by
// the client credentials and password grants, refreshes a public client's
// bound refresh token, and calls userinfo under the DPoP scheme.
// adminclient_test.go starts the server and runs this file with
// GATEHOUSE_URL set.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, webcrypto } from "node:crypto";
import * as client from "openid-client";
import { adminToken, baseUrl } from "./gatehouse.mjs";

const realm = "dpop-node";

function payload(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of an EC public key.
async function thumbprint(publicKey) {
  const { crv, kty, x, y } = await webcrypto.subtle.exportKey("jwk", publicKey);
  return createHash("sha256").update(JSON.stringify({ crv, kty, x, y })).digest("base64url");
}

async function discover(clientId, auth) {
  return client.discovery(new URL(`${baseUrl}/realms/${realm}`), clientId, {}, auth,
    { execute: [client.allowInsecureRequests] });
}

describe("DPoP", () => {
  it("imports a realm with a confidential and a DPoP-only public client", async () => {
    const res = await fetch(`${baseUrl}/admin/realms`, {
      method: "POST",
      headers: { authorization: `Bearer ${await adminToken()}`, "content-type": "application/json" },
      body: JSON.stringify({
        realm, enabled: true,
        clients: [
          { clientId: "app", secret: "app-secret", publicClient: false, enabled: true, serviceAccountsEnabled: true },
          { clientId: "spa", publicClient: true, enabled: true, directAccessGrantsEnabled: true,
            attributes: { "dpop.bound.access.tokens": "true" } },
        ],
        users: [{ username: "alice", enabled: true, email: "alice@example.com", emailVerified: true,
          credentials: [{ type: "password", value: "pw-alice", temporary: false }] }],
      }),
    });
    assert.equal(res.status, 201, await res.text());
  });

  it("binds a client credentials token and calls userinfo with it", async () => {
    const config = await discover("app", client.ClientSecretPost("app-secret"));
    assert.ok(config.serverMetadata().dpop_signing_alg_values_supported.includes("ES256"), "discovery lists ES256");
    const keyPair = await client.randomDPoPKeyPair("ES256");
    const DPoP = client.getDPoPHandle(config, keyPair);

    const tokens = await client.clientCredentialsGrant(config, { scope: "openid" }, { DPoP });
    assert.equal(tokens.token_type, "dpop");
    const claims = payload(tokens.access_token);
    assert.equal(claims.typ, "DPoP");
    assert.equal(claims.cnf.jkt, await thumbprint(keyPair.publicKey), "cnf.jkt is the proof key's thumbprint");

    const info = await client.fetchUserInfo(config, tokens.access_token, client.skipSubjectCheck, { DPoP });
    assert.equal(info.preferred_username, "service-account-app");

    // The same token without its proof, as a Bearer token, is refused.
    await assert.rejects(client.fetchUserInfo(config, tokens.access_token, client.skipSubjectCheck),
      (err) => err.status === 401 || err.cause?.status === 401 || /401|invalid_token/.test(String(err)));
  });

  it("binds a public client's tokens, refresh token included", async () => {
    const config = await discover("spa", client.None());
    const keyPair = await client.randomDPoPKeyPair("ES256");
    const DPoP = client.getDPoPHandle(config, keyPair);

    // The client requires DPoP: without a proof there is no token.
    await assert.rejects(client.genericGrantRequest(config, "password", { username: "alice", password: "pw-alice" }),
      (err) => err.error === "invalid_dpop_proof" || err.code === "OAUTH_RESPONSE_BODY_ERROR" && err.cause?.error === "invalid_dpop_proof");

    const tokens = await client.genericGrantRequest(config, "password",
      { username: "alice", password: "pw-alice", scope: "openid" }, { DPoP });
    const jkt = await thumbprint(keyPair.publicKey);
    assert.equal(payload(tokens.access_token).cnf.jkt, jkt);
    assert.equal(payload(tokens.refresh_token).cnf.jkt, jkt, "refresh token bound");

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, {}, { DPoP });
    assert.equal(payload(refreshed.access_token).cnf.jkt, jkt);

    // Another key cannot use the bound refresh token.
    const otherDPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair("ES256"));
    await assert.rejects(client.refreshTokenGrant(config, refreshed.refresh_token, {}, { DPoP: otherDPoP }),
      (err) => err.error === "invalid_grant" || err.cause?.error === "invalid_grant");

    const info = await client.fetchUserInfo(config, refreshed.access_token, tokens.claims().sub, { DPoP });
    assert.equal(info.preferred_username, "alice");
  });
});
