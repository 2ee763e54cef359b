// Identity providers through Keycloak's own admin client: instances,
// mappers, mapper types, the provider factory, import-config refusing the
// server's own loopback address, and a user's links. Runs beside
// admin.test.mjs in a realm of its own (see adminclient_test.go).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import KcAdminClient from "@keycloak/keycloak-admin-client";

const baseUrl = process.env.GATEHOUSE_URL;
if (!baseUrl) {
  throw new Error("GATEHOUSE_URL is not set (the Gatehouse base URL, e.g. http://localhost:8080)");
}

const REALM = "brokering";
const kc = new KcAdminClient({ baseUrl, realmName: "master" });
const ids = {};

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
  await kc.roles.create({ name: "partner" });
  ids.user = (await kc.users.create({ username: "alice", enabled: true })).id;
});

after(async () => {
  kc.setConfig({ realmName: "master" });
  if (await kc.realms.findOne({ realm: REALM })) {
    await kc.realms.del({ realm: REALM });
  }
});

describe("identity provider instances", () => {
  it("creates, reads with the secret masked, and lists", async () => {
    await kc.identityProviders.create({
      alias: "corp", displayName: "Corporate", providerId: "keycloak-oidc", enabled: true,
      config: { clientId: "downstream", clientSecret: "top-secret", authorizationUrl: "https://up.example/auth",
        tokenUrl: "https://up.example/token", syncMode: "IMPORT" },
    });
    await kc.identityProviders.create({ alias: "github", providerId: "github", config: { clientId: "gh", clientSecret: "gh-secret" } });
    const corp = await kc.identityProviders.findOne({ alias: "corp" });
    assert.equal(corp.displayName, "Corporate");
    assert.equal(corp.config.clientSecret, "**********");
    assert.equal(corp.config.syncMode, "IMPORT");
    assert.equal(typeof corp.internalId, "string");
    const all = await kc.identityProviders.find();
    assert.deepEqual(all.map((p) => p.alias), ["corp", "github"]);
    assert.ok(all.every((p) => p.config.clientSecret === "**********"));
    assert.equal(await kc.identityProviders.findOne({ alias: "nope" }), null);
  });

  it("refuses a duplicate alias with 409 and an unknown provider with 400", async () => {
    await rejectsWith(kc.identityProviders.create({ alias: "corp", providerId: "oidc" }), 409);
    await rejectsWith(kc.identityProviders.create({ alias: "x", providerId: "nope" }), 400);
    assert.equal((await kc.identityProviders.find()).length, 2);
  });

  it("updates, keeping the secret when the mask comes back", async () => {
    const corp = await kc.identityProviders.findOne({ alias: "corp" });
    await kc.identityProviders.update({ alias: "corp" }, { ...corp, hideOnLogin: true, trustEmail: true });
    const after = await kc.identityProviders.findOne({ alias: "corp" });
    assert.equal(after.hideOnLogin, true);
    assert.equal(after.trustEmail, true);
    assert.equal(after.config.clientSecret, "**********");
    await rejectsWith(kc.identityProviders.update({ alias: "corp" }, { ...corp, alias: "renamed" }), 400);
  });

  it("names the provider kinds", async () => {
    const f = await kc.identityProviders.findFactory({ providerId: "github" });
    assert.equal(f.id, "github");
    assert.equal(f.name, "GitHub");
  });

  it("refuses to fetch a discovery document from a loopback address", async () => {
    await rejectsWith(kc.identityProviders.importFromUrl({ providerId: "oidc", fromUrl: `${baseUrl}/realms/master/.well-known/openid-configuration` }), 400);
  });

  it("reports fine-grained permissions off", async () => {
    const p = await kc.identityProviders.listPermissions({ alias: "corp" });
    assert.equal(p.enabled, false);
  });
});

describe("identity provider mappers", () => {
  it("lists the mapper types of the provider's kind", async () => {
    const types = await kc.identityProviders.findMapperTypes({ alias: "corp" });
    for (const id of ["oidc-hardcoded-role-idp-mapper", "hardcoded-attribute-idp-mapper", "oidc-hardcoded-group-idp-mapper",
      "oidc-user-attribute-idp-mapper", "oidc-username-idp-mapper", "oidc-advanced-role-idp-mapper", "oidc-advanced-group-idp-mapper"]) {
      assert.ok(types[id], `mapper type ${id}`);
    }
    assert.equal(types["oidc-hardcoded-role-idp-mapper"].properties[0].name, "role");
  });

  it("creates, reads, updates and deletes a mapper", async () => {
    const { id } = await kc.identityProviders.createMapper({
      alias: "corp",
      identityProviderMapper: { name: "partner", identityProviderAlias: "corp", identityProviderMapper: "oidc-hardcoded-role-idp-mapper", config: { role: "partner" } },
    });
    ids.mapper = id;
    const m = await kc.identityProviders.findOneMapper({ alias: "corp", id });
    assert.equal(m.name, "partner");
    assert.equal(m.config.role, "partner");
    await kc.identityProviders.updateMapper({ alias: "corp", id }, { ...m, config: { role: "partner", syncMode: "FORCE" } });
    assert.equal((await kc.identityProviders.findOneMapper({ alias: "corp", id })).config.syncMode, "FORCE");
    assert.equal((await kc.identityProviders.findMappers({ alias: "corp" })).length, 1);
    await rejectsWith(kc.identityProviders.createMapper({
      alias: "corp", identityProviderMapper: { name: "x", identityProviderMapper: "oidc-hardcoded-role-idp-mapper", config: { role: "nope" } },
    }), 400);
  });
});

describe("federated identities", () => {
  it("links, lists and unlinks a user", async () => {
    await kc.users.addToFederatedIdentity({ id: ids.user, federatedIdentityId: "corp", federatedIdentity: { userId: "up-1", userName: "alice" } });
    await rejectsWith(kc.users.addToFederatedIdentity({ id: ids.user, federatedIdentityId: "corp", federatedIdentity: { userId: "up-2" } }), 409);
    const links = await kc.users.listFederatedIdentities({ id: ids.user });
    assert.deepEqual(links, [{ identityProvider: "corp", userId: "up-1", userName: "alice" }]);
    await kc.users.delFromFederatedIdentity({ id: ids.user, federatedIdentityId: "corp" });
    assert.deepEqual(await kc.users.listFederatedIdentities({ id: ids.user }), []);
  });

  it("deleting a provider removes its mappers and links", async () => {
    await kc.users.addToFederatedIdentity({ id: ids.user, federatedIdentityId: "corp", federatedIdentity: { userId: "up-1" } });
    await kc.identityProviders.del({ alias: "corp" });
    assert.equal(await kc.identityProviders.findOneMapper({ alias: "corp", id: ids.mapper }), null);
    assert.deepEqual(await kc.users.listFederatedIdentities({ id: ids.user }), []);
    assert.deepEqual((await kc.identityProviders.find()).map((p) => p.alias), ["github"]);
  });
});
