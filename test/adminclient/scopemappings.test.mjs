// Scope mappings through Keycloak's own admin client: the 22 calls it makes
// on clients and client scopes, and a token of a client without full scope
// that carries only what they map. Runs beside admin.test.mjs in a realm of
// its own (see adminclient_test.go).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import KcAdminClient from "@keycloak/keycloak-admin-client";

const baseUrl = process.env.GATEHOUSE_URL;
if (!baseUrl) {
  throw new Error("GATEHOUSE_URL is not set (the Gatehouse base URL, e.g. http://localhost:8080)");
}

const REALM = "scopes";
const kc = new KcAdminClient({ baseUrl, realmName: "master" });
const ids = {};
const names = (rs) => rs.map((r) => r.name).sort();

async function rejectsWith(p, status) {
  await assert.rejects(p, (err) => {
    assert.equal(err.response?.status, status, `status (error: ${err.message})`);
    return true;
  });
}

before(async () => {
  await kc.auth({ grantType: "password", clientId: "admin-cli", username: "admin", password: "admin-pw" });
  await kc.realms.create({ realm: REALM, enabled: true });
  kc.setConfig({ realmName: REALM });
  await kc.roles.create({ name: "reader" });
  await kc.roles.create({ name: "writer" });
  ids.reader = await kc.roles.findOneByName({ name: "reader" });
  ids.writer = await kc.roles.findOneByName({ name: "writer" });
  ids.api = (await kc.clients.create({ clientId: "api", bearerOnly: true })).id;
  await kc.clients.createRole({ id: ids.api, name: "read" });
  await kc.clients.createRole({ id: ids.api, name: "write" });
  ids.app = (await kc.clients.create({
    clientId: "app", secret: "app-secret", publicClient: false, directAccessGrantsEnabled: true, fullScopeAllowed: false,
  })).id;
  ids.scope = (await kc.clientScopes.create({ name: "extra", protocol: "openid-connect" })).id;
});

after(async () => {
  kc.setConfig({ realmName: "master" });
  if (await kc.realms.findOne({ realm: REALM })) {
    await kc.realms.del({ realm: REALM });
  }
});

for (const [kind, res, id] of [["clients", () => kc.clients, () => ids.app], ["client scopes", () => kc.clientScopes, () => ids.scope]]) {
  describe(`scope mappings of ${kind}`, () => {
    it("maps, lists and unmaps realm roles", async () => {
      const r = res();
      assert.deepEqual(await r.listRealmScopeMappings({ id: id() }), []);
      assert.ok(names(await r.listAvailableRealmScopeMappings({ id: id() })).includes("reader"));
      await r.addRealmScopeMappings({ id: id() }, [ids.reader, ids.writer]);
      assert.deepEqual(names(await r.listRealmScopeMappings({ id: id() })), ["reader", "writer"]);
      assert.ok(!names(await r.listAvailableRealmScopeMappings({ id: id() })).includes("reader"));
      assert.ok(names(await r.listCompositeRealmScopeMappings({ id: id() })).includes("writer"));
      await r.delRealmScopeMappings({ id: id() }, [ids.writer]);
      assert.deepEqual(names(await r.listRealmScopeMappings({ id: id() })), ["reader"]);
      await rejectsWith(r.addRealmScopeMappings({ id: id() }, [{ id: "no-such-role", name: "x" }]), 404);
    });

    it("maps, lists and unmaps a client's roles", async () => {
      const r = res();
      const q = { id: id(), client: ids.api };
      assert.deepEqual(names(await r.listAvailableClientScopeMappings(q)), ["read", "write"]);
      const read = (await kc.clients.listRoles({ id: ids.api })).find((x) => x.name === "read");
      await r.addClientScopeMappings(q, [read]);
      assert.deepEqual(names(await r.listClientScopeMappings(q)), ["read"]);
      assert.deepEqual(names(await r.listAvailableClientScopeMappings(q)), ["write"]);
      assert.deepEqual(names(await r.listCompositeClientScopeMappings(q)), ["read"]);
      const all = await r.listScopeMappings({ id: id() });
      assert.deepEqual(names(all.realmMappings), ["reader"]);
      assert.equal(all.clientMappings.api.id, ids.api);
      assert.deepEqual(names(all.clientMappings.api.mappings), ["read"]);
    });
  });
}

describe("a client without full scope", () => {
  it("gets only its scope-mapped roles in a token", async () => {
    const { id } = await kc.users.create({
      username: "carol", enabled: true, credentials: [{ type: "password", value: "carol-pw", temporary: false }],
    });
    await kc.users.addRealmRoleMappings({ id, roles: [ids.reader, ids.writer] });
    const api = await kc.clients.listRoles({ id: ids.api });
    await kc.users.addClientRoleMappings({ id, clientUniqueId: ids.api, roles: api });
    const res = await fetch(`${baseUrl}/realms/${REALM}/protocol/openid-connect/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "password", client_id: "app", client_secret: "app-secret", username: "carol", password: "carol-pw" }),
    });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    const at = JSON.parse(Buffer.from(body.access_token.split(".")[1], "base64url").toString());
    assert.deepEqual(at.realm_access.roles, ["reader"]);
    assert.deepEqual(at.resource_access.api.roles, ["read"]);
  });

  it("loses them when unmapped", async () => {
    await kc.clients.delClientScopeMappings({ id: ids.app, client: ids.api }, [{ name: "read" }]);
    await kc.clientScopes.delClientScopeMappings({ id: ids.scope, client: ids.api }, [{ name: "read" }]);
    assert.deepEqual(await kc.clients.listClientScopeMappings({ id: ids.app, client: ids.api }), []);
  });
});
