// openid-client's token exchange (RFC 8693) against Gatehouse's standard
// token exchange: a front-end client's access token, whose audience names
// the exchanger, is traded by the exchanger for a token of its own narrowed
// to one API; a scope the exchanger may not have is refused with
// invalid_scope. adminclient_test.go starts the server with GATEHOUSE_URL.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as client from "openid-client";

const baseUrl = process.env.GATEHOUSE_URL;
if (!baseUrl) {
  throw new Error("GATEHOUSE_URL is not set (the Gatehouse base URL, e.g. http://localhost:8080)");
}

const exchangeGrant = "urn:ietf:params:oauth:grant-type:token-exchange";
const accessTokenType = "urn:ietf:params:oauth:token-type:access_token";
const scopes = ["basic", "roles", "profile", "email", "web-origins", "acr"];

async function adminToken() {
  const res = await fetch(`${baseUrl}/realms/master/protocol/openid-connect/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "password", client_id: "admin-cli", username: "admin", password: "admin-pw" }),
  });
  assert.equal(res.status, 200, "admin login");
  return (await res.json()).access_token;
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
}

async function configFor(clientId, secret) {
  return client.discovery(new URL(`${baseUrl}/realms/exchange-node`), clientId, secret,
    client.ClientSecretBasic(secret), { execute: [client.allowInsecureRequests] });
}

describe("standard token exchange", () => {
  it("imports the realm", async () => {
    const res = await fetch(`${baseUrl}/admin/realms`, {
      method: "POST",
      headers: { authorization: `Bearer ${await adminToken()}`, "content-type": "application/json" },
      body: JSON.stringify({
        realm: "exchange-node", enabled: true,
        roles: { client: { "api-a": [{ name: "read" }], "api-b": [{ name: "write" }] } },
        clients: [
          { clientId: "front", secret: "front-secret", publicClient: false, directAccessGrantsEnabled: true,
            defaultClientScopes: scopes, optionalClientScopes: ["phone"],
            protocolMappers: [{ name: "aud-exchanger", protocol: "openid-connect", protocolMapper: "oidc-audience-mapper",
              config: { "included.client.audience": "exchanger", "access.token.claim": "true" } }] },
          { clientId: "exchanger", secret: "ex-secret", publicClient: false, defaultClientScopes: scopes,
            attributes: { "standard.token.exchange.enabled": "true" } },
          { clientId: "api-a", secret: "a-secret", publicClient: false },
          { clientId: "api-b", secret: "b-secret", publicClient: false },
        ],
        users: [{ username: "alice", enabled: true, email: "alice@example.com", emailVerified: true,
          credentials: [{ type: "password", value: "pw-alice", temporary: false }],
          clientRoles: { "api-a": ["read"], "api-b": ["write"] } }],
      }),
    });
    assert.equal(res.status, 201, await res.text());
  });

  it("exchanges front's token for the exchanger's, narrowed to one API", async () => {
    const front = await configFor("front", "front-secret");
    assert.ok(front.serverMetadata().grant_types_supported.includes(exchangeGrant), "discovery lists the grant");
    const subject = await client.genericGrantRequest(front, "password", { username: "alice", password: "pw-alice", scope: "phone" });

    const exchanger = await configFor("exchanger", "ex-secret");
    const res = await client.genericGrantRequest(exchanger, exchangeGrant, {
      subject_token: subject.access_token, subject_token_type: accessTokenType, audience: "api-a",
    });
    assert.equal(res.issued_token_type, accessTokenType);
    assert.equal(res.token_type, "bearer"); // openid-client lowercases it
    const c = claims(res.access_token);
    assert.equal(c.azp, "exchanger");
    assert.equal(c.sub, claims(subject.access_token).sub);
    assert.equal(c.aud, "api-a");
    assert.deepEqual(Object.keys(c.resource_access), ["api-a"]);

    // The exchanged token is live: the API introspects it.
    const api = await configFor("api-a", "a-secret");
    const info = await client.tokenIntrospection(api, res.access_token);
    assert.equal(info.active, true);
    assert.equal(info.client_id, "exchanger");

    // phone is front's scope, not the exchanger's: no widening.
    await assert.rejects(
      client.genericGrantRequest(exchanger, exchangeGrant, {
        subject_token: subject.access_token, subject_token_type: accessTokenType, scope: "phone",
      }),
      (err) => err.error === "invalid_scope" && err.error_description === "Invalid scopes: phone" && err.status === 400,
    );
  });
});
