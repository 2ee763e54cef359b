// Pushed authorization requests (RFC 9126) through openid-client, a
// certified relying party library: it pushes the request with its client
// authentication, sends the browser to the authorization endpoint with the
// request_uri it got back, and redeems the code with PKCE, checking state,
// nonce and the ID token. The browser part (login form, cookies) is done
// here with fetch. adminclient_test.go starts the server with GATEHOUSE_URL.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as client from "openid-client";
import { adminToken, baseUrl } from "./gatehouse.mjs";

const realm = "par-node";
const redirectUri = "https://par-app.example/cb";

const unescape = (s) => s.replaceAll("&amp;", "&").replaceAll("&#43;", "+").replaceAll("&#34;", '"').replaceAll("&#39;", "'");

// browserLogin opens url as a browser would, submits alice's password on
// the login page and returns the redirect the server answers with.
async function browserLogin(url) {
  const page = await fetch(url, { redirect: "manual" });
  assert.equal(page.status, 200, "login page");
  const cookies = page.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const body = await page.text();
  const action = unescape(body.match(/<form[^>]*action="([^"]*)"/)[1]);
  const form = new URLSearchParams({ username: "alice", password: "pw-alice" });
  for (const [, name, value] of body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    form.set(unescape(name), unescape(value));
  }
  const res = await fetch(new URL(action, baseUrl), { method: "POST", body: form, headers: { cookie: cookies }, redirect: "manual" });
  assert.equal(res.status, 302, "login answer");
  return new URL(res.headers.get("location"));
}

describe("pushed authorization requests", () => {
  let config;

  it("imports a realm whose client requires PAR", async () => {
    const res = await fetch(`${baseUrl}/admin/realms`, {
      method: "POST",
      headers: { authorization: `Bearer ${await adminToken()}`, "content-type": "application/json" },
      body: JSON.stringify({
        realm, enabled: true,
        clients: [{
          clientId: "app", secret: "app-secret", publicClient: false, enabled: true, redirectUris: [redirectUri],
          attributes: { "require.pushed.authorization.requests": "true", "pkce.code.challenge.method": "S256" },
        }],
        users: [{ username: "alice", enabled: true, email: "alice@example.com", emailVerified: true,
          credentials: [{ type: "password", value: "pw-alice", temporary: false }] }],
      }),
    });
    assert.equal(res.status, 201, await res.text());
    config = await client.discovery(new URL(`${baseUrl}/realms/${realm}`), "app", { client_secret: "app-secret" },
      client.ClientSecretPost("app-secret"), { execute: [client.allowInsecureRequests] });
    const meta = config.serverMetadata();
    assert.equal(meta.pushed_authorization_request_endpoint, `${baseUrl}/realms/${realm}/protocol/openid-connect/ext/par/request`);
    assert.equal(meta.require_pushed_authorization_requests, false, "not required realm-wide");
  });

  it("logs in through a pushed request and redeems the code", async () => {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: redirectUri, scope: "openid profile", state, nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
    });
    assert.match(url.searchParams.get("request_uri"), /^urn:ietf:params:oauth:request_uri:/);
    assert.equal(url.searchParams.get("redirect_uri"), null, "only client_id and request_uri travel by the browser");

    const callback = await browserLogin(url);
    const tokens = await client.authorizationCodeGrant(config, callback,
      { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    assert.equal(tokens.claims().preferred_username, "alice");

    const again = await fetch(url, { redirect: "manual" });
    assert.equal(again.status, 400, "a request_uri is used once");
  });

  it("refuses a plain authorization request for the client", async () => {
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri, scope: "openid", state: "s1",
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: "S256",
    });
    const res = await fetch(url, { redirect: "manual" });
    assert.equal(res.status, 302);
    const loc = new URL(res.headers.get("location"));
    assert.equal(loc.searchParams.get("error"), "invalid_request");
    assert.equal(loc.searchParams.get("error_description"), "Pushed Authorization Request is only allowed.");
  });
});
