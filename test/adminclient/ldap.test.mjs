// LDAP user federation through Keycloak's admin client library:
// adminclient_test.go starts Gatehouse and the test directory (slapd) and
// runs this file with GATEHOUSE_URL and GATEHOUSE_LDAP_* set. The calls are
// the ones the admin console makes: test the connection and the bind,
// read the server's capabilities, save a provider (which brings its
// default mappers), sync its users, read its name, sync a group mapper,
// unlink and remove its users, delete it.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import KcAdminClient from "@keycloak/keycloak-admin-client";
import { baseUrl } from "./gatehouse.mjs";

const ldapUrl = process.env.GATEHOUSE_LDAP_URL;
const bindDn = process.env.GATEHOUSE_LDAP_BIND_DN;
const bindPw = process.env.GATEHOUSE_LDAP_BIND_PW;
const usersDn = process.env.GATEHOUSE_LDAP_USERS_DN;
const groupsDn = process.env.GATEHOUSE_LDAP_GROUPS_DN;
const REALM = "ldap-node";
const STORAGE = "org.keycloak.storage.UserStorageProvider";
const MAPPER = "org.keycloak.storage.ldap.mappers.LDAPStorageMapper";

const kc = new KcAdminClient({ baseUrl, realmName: "master" });
const ids = {};

async function rejectsWith(p, status, body) {
  await assert.rejects(p, (err) => {
    assert.equal(err.response?.status, status, `status (error: ${err.message})`);
    if (body) assert.deepEqual(err.responseData, body);
    return true;
  });
}

describe("LDAP user federation", { skip: !ldapUrl && "GATEHOUSE_LDAP_URL is not set" }, () => {
  before(async () => {
    await kc.auth({ grantType: "password", clientId: "admin-cli", username: "admin", password: "admin-pw" });
    await kc.realms.create({ realm: REALM, enabled: true });
    kc.setConfig({ realmName: REALM });
  });

  it("tests the connection, the bind and the capabilities", async () => {
    const base = { connectionUrl: ldapUrl, bindDn, bindCredential: bindPw, useTruststoreSpi: "always", authType: "simple" };
    await kc.realms.testLDAPConnection({ realm: REALM }, { ...base, action: "testConnection" });
    await kc.realms.testLDAPConnection({ realm: REALM }, { ...base, action: "testAuthentication" });
    await rejectsWith(kc.realms.testLDAPConnection({ realm: REALM }, { ...base, bindCredential: "wrong", action: "testAuthentication" }),
      400, { errorMessage: "AuthenticationFailure" });
    const caps = await kc.realms.ldapServerCapabilities({ realm: REALM }, base);
    assert.ok(caps.some((c) => c.type === "EXTENSION" && c.oid === "1.3.6.1.4.1.4203.1.11.1"), JSON.stringify(caps));
  });

  it("saves a provider with its default mappers, the bind credential masked", async () => {
    const realm = await kc.realms.findOne({ realm: REALM });
    await rejectsWith(kc.components.create({ name: "bad", providerId: "ldap", providerType: STORAGE, parentId: realm.id,
      config: { connectionUrl: [ldapUrl], vendor: ["other"] } }), 400, { errorMessage: "Edit Mode is mandatory" });
    const { id } = await kc.components.create({
      name: "corp", providerId: "ldap", providerType: STORAGE, parentId: realm.id,
      config: {
        vendor: ["other"], connectionUrl: [ldapUrl], bindDn: [bindDn], bindCredential: [bindPw], usersDn: [usersDn],
        usernameLDAPAttribute: ["uid"], rdnLDAPAttribute: ["uid"], uuidLDAPAttribute: ["entryUUID"],
        userObjectClasses: ["inetOrgPerson, organizationalPerson"], editMode: ["READ_ONLY"], importEnabled: ["true"],
        enabled: ["true"], fullSyncPeriod: ["-1"], changedSyncPeriod: ["-1"],
      },
    });
    ids.provider = id;
    const [p] = await kc.components.find({ parent: realm.id, type: STORAGE });
    assert.equal(p.id, id);
    assert.deepEqual(p.config.bindCredential, ["**********"]);
    const mappers = await kc.components.find({ parent: id, type: MAPPER });
    assert.ok(mappers.some((m) => m.name === "username" && m.providerId === "user-attribute-ldap-mapper"), JSON.stringify(mappers.map((m) => m.name)));
    // Saving the form back with the mask keeps the credential.
    await kc.components.update({ id }, { ...p, name: "corp-renamed" });
    await kc.realms.testLDAPConnection({ realm: REALM }, {
      action: "testAuthentication", connectionUrl: ldapUrl, bindDn, bindCredential: "**********", componentId: id,
    });
    assert.deepEqual(await kc.userStorageProvider.name({ id }), { id, name: "corp-renamed" });
  });

  it("syncs the directory's users", async () => {
    const res = await kc.userStorageProvider.sync({ id: ids.provider, action: "triggerFullSync" });
    assert.equal(res.ignored, false);
    assert.ok(res.added >= 3, JSON.stringify(res));
    assert.equal(res.failed, 0);
    assert.match(res.status, /^\d+ imported users, 0 updated users$/);
    const [user1] = await kc.users.find({ username: "user1", exact: true });
    assert.equal(user1.federationLink, ids.provider);
    const again = await kc.userStorageProvider.sync({ id: ids.provider, action: "triggerChangedUsersSync" });
    assert.equal(again.added, 0, JSON.stringify(again));
  });

  it("syncs a group mapper's groups", async () => {
    const { id } = await kc.components.create({ name: "groups", providerId: "group-ldap-mapper", providerType: MAPPER,
      parentId: ids.provider, config: { "groups.dn": [groupsDn], mode: ["READ_ONLY"], "membership.ldap.attribute": ["member"] } });
    const res = await kc.userStorageProvider.mappersSync({ parentId: ids.provider, id, direction: "fedToKeycloak" });
    assert.ok(res.added >= 2, JSON.stringify(res));
    const groups = await kc.groups.find();
    assert.ok(groups.some((g) => g.name === "ldap-users"), JSON.stringify(groups.map((g) => g.name)));
  });

  it("unlinks and removes imported users, and deletes the provider", async () => {
    await kc.userStorageProvider.unlinkUsers({ id: ids.provider });
    let [user1] = await kc.users.find({ username: "user1", exact: true });
    assert.equal(user1.federationLink, undefined);
    await kc.userStorageProvider.sync({ id: ids.provider, action: "triggerFullSync" }).catch(() => {});
    await kc.userStorageProvider.removeImportedUsers({ id: ids.provider });
    await kc.components.del({ id: ids.provider });
    assert.deepEqual(await kc.components.find({ type: STORAGE }), []);
    await rejectsWith(kc.userStorageProvider.name({ id: ids.provider }), 404);
  });
});
