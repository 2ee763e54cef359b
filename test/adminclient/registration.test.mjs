// Initial access tokens through Keycloak's own admin client (realms.
// createClientsInitialAccess, getClientsInitialAccess,
// delClientsInitialAccess), and a client registered with one through the
// OpenID Connect registration endpoint the realm's discovery names. Runs in
// a realm of its own (see adminclient_test.go).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import KcAdminClient from "@keycloak/keycloak-admin-client";

const baseUrl = process.env.GATEHOUSE_URL;
if (!baseUrl) {
  throw new Error("GATEHOUSE_URL is not set (the Gatehouse base URL, e.g. http://localhost:8080)");
}

const REALM = "dcr";
const kc = new KcAdminClient({ baseUrl, realmName: "master" });

before(async () => {
  await kc.auth({ grantType: "password", clientId: "admin-cli", username: "admin", password: "admin-pw" });
  await kc.realms.create({ realm: REALM, enabled: true });
});

after(async () => {
  await kc.realms.del({ realm: REALM });
});

describe("client initial access", () => {
  it("creates, lists, registers with, and deletes an initial access token", async () => {
    const made = await kc.realms.createClientsInitialAccess({ realm: REALM }, { count: 2, expiration: 600 });
    assert.ok(made.id && made.token, "id and token");
    assert.equal(made.count, 2);
    assert.equal(made.remainingCount, 2);

    const doc = await (await fetch(`${baseUrl}/realms/${REALM}/.well-known/openid-configuration`)).json();
    const res = await fetch(doc.registration_endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${made.token}` },
      body: JSON.stringify({ client_name: "node app", redirect_uris: ["https://node.example/cb"] }),
    });
    assert.equal(res.status, 201);
    const reg = await res.json();
    assert.ok(reg.client_id && reg.client_secret && reg.registration_access_token);

    const found = await kc.clients.find({ realm: REALM, clientId: reg.client_id });
    assert.equal(found.length, 1);
    assert.equal(found[0].name, "node app");

    const list = await kc.realms.getClientsInitialAccess({ realm: REALM });
    assert.equal(list.length, 1);
    assert.equal(list[0].id, made.id);
    assert.equal(list[0].remainingCount, 1);
    assert.equal(list[0].token, undefined, "the token is shown only when made");

    await kc.realms.delClientsInitialAccess({ realm: REALM, id: made.id });
    assert.deepEqual(await kc.realms.getClientsInitialAccess({ realm: REALM }), []);
    const again = await fetch(doc.registration_endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${made.token}` },
      body: JSON.stringify({ redirect_uris: ["https://node.example/cb"] }),
    });
    assert.equal(again.status, 401);
  });
});
