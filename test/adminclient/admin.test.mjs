// Keycloak's own admin client library against Gatehouse. adminclient_test.go
// starts a whole server (bootstrap admin admin/admin-pw in master) and runs
// this file with GATEHOUSE_URL set; to run it by hand against a server you
// started yourself: GATEHOUSE_URL=http://localhost:8080 node --test
//
// The steps share state and run in order: each describe block is one admin
// resource, and later blocks use what earlier ones created.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import KcAdminClient from "@keycloak/keycloak-admin-client";

const baseUrl = process.env.GATEHOUSE_URL;
if (!baseUrl) {
  throw new Error("GATEHOUSE_URL is not set (the Gatehouse base URL, e.g. http://localhost:8080)");
}

const REALM = "ldap-demo";
const USER_PW = "user1-pw";
const USER_PW2 = "user1-pw-reset";

const kc = new KcAdminClient({ baseUrl, realmName: "master" });

// What earlier steps created, by name.
const ids = {};

// assertId checks that the server assigned an id.
function assertId(v, what) {
  assert.equal(typeof v, "string", `${what}: id is a string`);
  assert.ok(v.length > 0, `${what}: id is not empty`);
}

// rejectsWith asserts that p fails with a NetworkError of the given status.
async function rejectsWith(p, status) {
  await assert.rejects(p, (err) => {
    assert.equal(err.response?.status, status, `status (error: ${err.message})`);
    return true;
  });
}

// token calls the realm's token endpoint with a form and returns status and JSON.
async function token(form) {
  const res = await fetch(`${baseUrl}/realms/${REALM}/protocol/openid-connect/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: await res.json() };
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
}

before(async () => {
  await kc.auth({ grantType: "password", clientId: "admin-cli", username: "admin", password: "admin-pw" });
  assert.equal(typeof kc.accessToken, "string");
  assert.equal(typeof kc.refreshToken, "string");
});

after(async () => {
  // Cleanup runs even when a step failed; the realm may never have existed.
  kc.setConfig({ realmName: "master" });
  if (await kc.realms.findOne({ realm: REALM })) {
    await kc.realms.del({ realm: REALM });
  }
  assert.equal(await kc.realms.findOne({ realm: REALM }), null, "deleted realm is gone");
});

describe("realms", () => {
  it("creates the realm with its lifespans", async () => {
    const created = await kc.realms.create({
      realm: REALM,
      enabled: true,
      accessTokenLifespan: 60,
      ssoSessionIdleTimeout: 60,
      offlineSessionIdleTimeout: 5184000,
    });
    assert.deepEqual(created, { realmName: REALM });
  });

  it("finds it among all realms", async () => {
    const realms = await kc.realms.find();
    assert.ok(Array.isArray(realms));
    const names = realms.map((r) => r.realm);
    assert.ok(names.includes("master"), `master in ${names}`);
    const r = realms.find((r) => r.realm === REALM);
    assert.ok(r, `${REALM} in ${names}`);
    assertId(r.id, "realm");
    ids.realm = r.id;
  });

  it("updates it and reads the change back", async () => {
    await kc.realms.update({ realm: REALM }, { displayName: "LDAP Demo", registrationAllowed: false });
    const r = await kc.realms.findOne({ realm: REALM });
    assert.equal(r.id, ids.realm);
    assert.equal(r.realm, REALM);
    assert.equal(r.displayName, "LDAP Demo");
    assert.equal(r.enabled, true);
    // An update that leaves a field out leaves it alone.
    assert.equal(r.accessTokenLifespan, 60);
    assert.equal(r.ssoSessionIdleTimeout, 60);
    assert.equal(r.offlineSessionIdleTimeout, 5184000);
  });

  it("refuses a second realm of the same name with 409", async () => {
    await rejectsWith(kc.realms.create({ realm: REALM, enabled: true }), 409);
  });

  it("answers an unknown realm with null (404)", async () => {
    assert.equal(await kc.realms.findOne({ realm: "no-such-realm" }), null);
  });
});

describe("client scopes", () => {
  before(() => kc.setConfig({ realmName: REALM }));

  it("creates info with a hardcoded-claim mapper", async () => {
    const { id } = await kc.clientScopes.create({
      name: "info",
      description: "a hardcoded info claim",
      protocol: "openid-connect",
      attributes: { "include.in.token.scope": "true", "display.on.consent.screen": "true" },
      protocolMappers: [
        {
          name: "info-claim",
          protocol: "openid-connect",
          protocolMapper: "oidc-hardcoded-claim-mapper",
          config: {
            "claim.name": "info",
            "claim.value": "hello from ldap-demo",
            "jsonType.label": "String",
            "access.token.claim": "true",
            "id.token.claim": "true",
            "userinfo.token.claim": "true",
          },
        },
      ],
    });
    assertId(id, "client scope");
    ids.info = id;
  });

  it("reads it back by name and by id, mapper included", async () => {
    const s = await kc.clientScopes.findOneByName({ name: "info" });
    assert.equal(s.id, ids.info);
    assert.equal(s.protocol, "openid-connect");
    assert.equal(s.attributes["include.in.token.scope"], "true");
    assert.equal(s.protocolMappers.length, 1);
    const m = s.protocolMappers[0];
    assertId(m.id, "protocol mapper");
    assert.equal(m.name, "info-claim");
    assert.equal(m.protocolMapper, "oidc-hardcoded-claim-mapper");
    assert.equal(m.config["claim.value"], "hello from ldap-demo");

    const byId = await kc.clientScopes.findOne({ id: ids.info });
    assert.equal(byId.name, "info");
    const mappers = await kc.clientScopes.listProtocolMappers({ id: ids.info });
    assert.deepEqual(mappers.map((m) => m.name), ["info-claim"]);
  });

  it("lists it with the realm's built-in scopes", async () => {
    const names = (await kc.clientScopes.find()).map((s) => s.name);
    for (const n of ["info", "profile", "email", "offline_access"]) {
      assert.ok(names.includes(n), `${n} in ${names}`);
    }
  });
});

describe("clients", () => {
  before(() => kc.setConfig({ realmName: REALM }));

  it("creates the confidential client ldap-app", async () => {
    const { id } = await kc.clients.create({
      clientId: "ldap-app",
      name: "LDAP app",
      enabled: true,
      publicClient: false,
      clientAuthenticatorType: "client-secret",
      secret: "ldap-app-secret",
      directAccessGrantsEnabled: true,
      serviceAccountsEnabled: true,
      standardFlowEnabled: true,
      redirectUris: ["http://localhost:3000/callback"],
    });
    assertId(id, "client");
    ids.client = id;
  });

  it("finds it by clientId", async () => {
    const found = await kc.clients.find({ clientId: "ldap-app" });
    assert.equal(found.length, 1);
    const c = found[0];
    assert.equal(c.id, ids.client);
    assert.equal(c.clientId, "ldap-app");
    assert.equal(c.publicClient, false);
    assert.equal(c.directAccessGrantsEnabled, true);
    assert.equal(c.serviceAccountsEnabled, true);
    assert.equal(c.protocol, "openid-connect");
    assert.deepEqual(c.redirectUris, ["http://localhost:3000/callback"]);
    assert.equal((await kc.clients.findOne({ id: ids.client })).clientId, "ldap-app");
  });

  it("reads and regenerates the secret", async () => {
    const s = await kc.clients.getClientSecret({ id: ids.client });
    assert.deepEqual(s, { type: "secret", value: "ldap-app-secret" });
    const fresh = await kc.clients.generateNewClientSecret({ id: ids.client });
    assert.equal(fresh.type, "secret");
    assert.equal(typeof fresh.value, "string");
    assert.notEqual(fresh.value, "ldap-app-secret");
    assert.deepEqual(await kc.clients.getClientSecret({ id: ids.client }), fresh);
    ids.secret = fresh.value;
  });

  it("adds info as an optional scope, over the realm's defaults", async () => {
    await kc.clients.addOptionalClientScope({ id: ids.client, clientScopeId: ids.info });
    const optional = await kc.clients.listOptionalClientScopes({ id: ids.client });
    const o = optional.find((s) => s.name === "info");
    assert.ok(o, `info in ${optional.map((s) => s.name)}`);
    assert.equal(o.id, ids.info);

    const defaults = await kc.clients.listDefaultClientScopes({ id: ids.client });
    assert.ok(defaults.length > 0, "the client inherited the realm's default scopes");
    for (const s of defaults) {
      assertId(s.id, "default client scope");
      assert.equal(typeof s.name, "string");
    }
    const names = defaults.map((s) => s.name);
    assert.ok(names.includes("profile"), `profile in ${names}`);
    assert.ok(!names.includes("info"), "info is optional, not default");
  });

  it("creates and lists a client role", async () => {
    const created = await kc.clients.createRole({ id: ids.client, name: "app-user", description: "uses ldap-app" });
    assert.deepEqual(created, { roleName: "app-user" });
    const roles = await kc.clients.listRoles({ id: ids.client });
    const r = roles.find((r) => r.name === "app-user");
    assert.ok(r, `app-user in ${roles.map((r) => r.name)}`);
    assertId(r.id, "client role");
    assert.equal(r.clientRole, true);
    assert.equal(r.containerId, ids.client);
    assert.equal(r.composite, false);
    ids.appUser = r;
    assert.equal((await kc.clients.findRole({ id: ids.client, roleName: "app-user" })).id, r.id);
  });

  it("has a service-account user", async () => {
    const sa = await kc.clients.getServiceAccountUser({ id: ids.client });
    assertId(sa.id, "service account");
    assert.equal(sa.username, "service-account-ldap-app");
    assert.equal(sa.enabled, true);
  });

  it("issues a token to the service account with the new secret", async () => {
    const { status, body } = await token({
      grant_type: "client_credentials",
      client_id: "ldap-app",
      client_secret: ids.secret,
    });
    assert.equal(status, 200, JSON.stringify(body));
    const old = await token({ grant_type: "client_credentials", client_id: "ldap-app", client_secret: "ldap-app-secret" });
    assert.equal(old.status, 401, "the regenerated-away secret no longer works");
  });
});

describe("roles", () => {
  before(() => kc.setConfig({ realmName: REALM }));

  it("creates realm roles and finds them by name", async () => {
    assert.deepEqual(await kc.roles.create({ name: "reader", description: "reads" }), { roleName: "reader" });
    assert.deepEqual(await kc.roles.create({ name: "writer", description: "writes" }), { roleName: "writer" });
    const reader = await kc.roles.findOneByName({ name: "reader" });
    assertId(reader.id, "realm role");
    assert.equal(reader.name, "reader");
    assert.equal(reader.description, "reads");
    assert.equal(reader.clientRole, false);
    assert.equal(reader.composite, false);
    assert.equal(reader.containerId, ids.realm);
    ids.reader = reader;
    ids.writer = await kc.roles.findOneByName({ name: "writer" });
    assert.equal(await kc.roles.findOneByName({ name: "no-such-role" }), null);
  });

  it("makes writer a composite of reader", async () => {
    await kc.roles.createComposite({ roleId: ids.writer.id }, [ids.reader]);
    const composites = await kc.roles.getCompositeRoles({ id: ids.writer.id });
    assert.deepEqual(composites.map((r) => r.name), ["reader"]);
    assert.equal(composites[0].id, ids.reader.id);
    const writer = await kc.roles.findOneByName({ name: "writer" });
    assert.equal(writer.composite, true);
    assert.deepEqual(
      (await kc.roles.getCompositeRolesForRealm({ id: ids.writer.id })).map((r) => r.name),
      ["reader"],
    );
  });

  it("lists the realm's roles, built-ins included", async () => {
    const names = (await kc.roles.find()).map((r) => r.name);
    for (const n of ["reader", "writer", "offline_access", `default-roles-${REALM}`]) {
      assert.ok(names.includes(n), `${n} in ${names}`);
    }
  });

  it("refuses a duplicate role with 409", async () => {
    await rejectsWith(kc.roles.create({ name: "reader" }), 409);
  });
});

describe("groups", () => {
  before(() => kc.setConfig({ realmName: REALM }));

  it("creates a group and a subgroup", async () => {
    const { id } = await kc.groups.create({ name: "staff" });
    assertId(id, "group");
    ids.staff = id;
    // createChildGroup is what the library calls setOrCreateChild since 26.
    const child = await kc.groups.createChildGroup({ id }, { name: "engineers" });
    assertId(child.id, "subgroup");
    ids.engineers = child.id;
  });

  it("reads the hierarchy back", async () => {
    const top = await kc.groups.find();
    const staff = top.find((g) => g.name === "staff");
    assert.ok(staff, `staff in ${top.map((g) => g.name)}`);
    assert.equal(staff.id, ids.staff);
    assert.equal(staff.path, "/staff");
    const subs = await kc.groups.listSubGroups({ parentId: ids.staff });
    assert.deepEqual(subs.map((g) => [g.id, g.name]), [[ids.engineers, "engineers"]]);
    const eng = await kc.groups.findOne({ id: ids.engineers });
    assert.equal(eng.path, "/staff/engineers");
    assert.equal(eng.parentId, ids.staff);
    assert.equal((await kc.groups.count()).count, 2, "every group counts");
    assert.equal((await kc.groups.count({ top: true })).count, 1, "one top-level group");
  });

  it("maps a realm role onto the group", async () => {
    await kc.groups.addRealmRoleMappings({ id: ids.engineers, roles: [{ id: ids.reader.id, name: "reader" }] });
    const mapped = await kc.groups.listRealmRoleMappings({ id: ids.engineers });
    assert.deepEqual(mapped.map((r) => r.name), ["reader"]);
  });
});

describe("users", () => {
  before(() => kc.setConfig({ realmName: REALM }));

  it("creates user1 with a password", async () => {
    const { id } = await kc.users.create({
      username: "user1",
      enabled: true,
      email: "user1@example.com",
      emailVerified: true,
      firstName: "User",
      lastName: "One",
      attributes: { department: ["ldap"] },
      credentials: [{ type: "password", value: USER_PW, temporary: false }],
    });
    assertId(id, "user");
    ids.user = id;
    await rejectsWith(kc.users.create({ username: "user1", enabled: true }), 409);
  });

  it("finds user1 by username, search and exact match", async () => {
    const byName = await kc.users.find({ username: "user1" });
    assert.deepEqual(byName.map((u) => u.id), [ids.user]);
    const u = byName[0];
    assert.equal(u.username, "user1");
    assert.equal(u.email, "user1@example.com");
    assert.equal(u.firstName, "User");
    assert.equal(u.lastName, "One");
    assert.equal(u.enabled, true);
    assert.equal(u.emailVerified, true);
    assert.equal(typeof u.createdTimestamp, "number");
    assert.deepEqual(u.attributes, { department: ["ldap"] });

    assert.deepEqual((await kc.users.find({ search: "user" })).map((u) => u.id), [ids.user]);
    assert.deepEqual((await kc.users.find({ search: "user1@example" })).map((u) => u.id), [ids.user]);
    assert.deepEqual((await kc.users.find({ username: "user1", exact: true })).map((u) => u.id), [ids.user]);
    assert.deepEqual(await kc.users.find({ username: "user", exact: true }), []);
    assert.deepEqual((await kc.users.find({ q: "department:ldap" })).map((u) => u.id), [ids.user]);

    const one = await kc.users.findOne({ id: ids.user });
    assert.equal(one.username, "user1");
    assert.equal(await kc.users.findOne({ id: "no-such-user" }), null);
  });

  it("counts users, leaving service accounts out", async () => {
    assert.equal(await kc.users.count(), 1);
    assert.equal(await kc.users.count({ search: "user1" }), 1);
  });

  it("resets the password", async () => {
    await kc.users.resetPassword({
      id: ids.user,
      credential: { type: "password", value: USER_PW2, temporary: false },
    });
    const creds = await kc.users.getCredentials({ id: ids.user });
    assert.equal(creds.length, 1);
    assert.equal(creds[0].type, "password");
    assertId(creds[0].id, "credential");
    assert.equal(creds[0].secretData, undefined, "no hash leaves the server");
  });

  it("maps realm roles, directly and through composites", async () => {
    const offline = await kc.roles.findOneByName({ name: "offline_access" });
    assertId(offline.id, "offline_access");
    await kc.users.addRealmRoleMappings({
      id: ids.user,
      roles: [
        { id: offline.id, name: "offline_access" },
        { id: ids.writer.id, name: "writer" },
      ],
    });
    const direct = (await kc.users.listRealmRoleMappings({ id: ids.user })).map((r) => r.name);
    for (const n of ["offline_access", "writer", `default-roles-${REALM}`]) {
      assert.ok(direct.includes(n), `${n} in direct ${direct}`);
    }
    assert.ok(!direct.includes("reader"), "reader comes only through writer");
    const effective = (await kc.users.listCompositeRealmRoleMappings({ id: ids.user })).map((r) => r.name);
    for (const n of ["offline_access", "writer", "reader"]) {
      assert.ok(effective.includes(n), `${n} in effective ${effective}`);
    }
  });

  it("maps a client role", async () => {
    await kc.users.addClientRoleMappings({
      id: ids.user,
      clientUniqueId: ids.client,
      roles: [{ id: ids.appUser.id, name: "app-user" }],
    });
    const mapped = await kc.users.listClientRoleMappings({ id: ids.user, clientUniqueId: ids.client });
    assert.deepEqual(mapped.map((r) => [r.id, r.name]), [[ids.appUser.id, "app-user"]]);
    const all = await kc.users.listRoleMappings({ id: ids.user });
    assert.ok(all.realmMappings.length >= 3);
    assert.deepEqual(all.clientMappings["ldap-app"].mappings.map((r) => r.name), ["app-user"]);
    assert.equal(all.clientMappings["ldap-app"].id, ids.client);
  });

  it("joins the subgroup", async () => {
    await kc.users.addToGroup({ id: ids.user, groupId: ids.engineers });
    const groups = await kc.users.listGroups({ id: ids.user });
    assert.deepEqual(groups.map((g) => [g.id, g.path]), [[ids.engineers, "/staff/engineers"]]);
    const members = await kc.groups.listMembers({ id: ids.engineers });
    assert.deepEqual(members.map((u) => u.username), ["user1"]);
    assert.deepEqual(await kc.groups.listMembers({ id: ids.staff }), [], "members are direct members only");
  });

  it("lists the session a password login opens", async () => {
    assert.deepEqual(await kc.users.listSessions({ id: ids.user }), []);
    const { status, body } = await token({
      grant_type: "password",
      client_id: "ldap-app",
      client_secret: ids.secret,
      username: "user1",
      password: USER_PW2,
      scope: "openid",
    });
    assert.equal(status, 200, JSON.stringify(body));
    const sessions = await kc.users.listSessions({ id: ids.user });
    assert.equal(sessions.length, 1);
    const s = sessions[0];
    assertId(s.id, "session");
    assert.equal(s.username, "user1");
    assert.equal(s.userId, ids.user);
    assert.equal(typeof s.start, "number");
    assert.equal(typeof s.lastAccess, "number");
    assert.equal(typeof s.ipAddress, "string");
    assert.deepEqual(s.clients, { [ids.client]: "ldap-app" });
    ids.session = s.id;
    assert.equal((await kc.clients.getSessionCount({ id: ids.client })).count, 1);
    assert.deepEqual((await kc.clients.listSessions({ id: ids.client })).map((s) => s.id), [s.id]);
  });

  it("ends the session by id, and all of a user's sessions", async () => {
    await kc.realms.deleteSession({ realm: REALM, session: ids.session });
    assert.deepEqual(await kc.users.listSessions({ id: ids.user }), []);
    const { status } = await token({
      grant_type: "password",
      client_id: "ldap-app",
      client_secret: ids.secret,
      username: "user1",
      password: USER_PW2,
    });
    assert.equal(status, 200);
    assert.equal((await kc.users.listSessions({ id: ids.user })).length, 1);
    await kc.users.logout({ id: ids.user });
    assert.deepEqual(await kc.users.listSessions({ id: ids.user }), []);
  });

  it("reports the user's brute-force status", async () => {
    const status = await kc.attackDetection.findOne({ id: ids.user });
    assert.equal(status.disabled, false);
    assert.equal(status.numFailures, 0);
    await kc.attackDetection.del({ id: ids.user });
  });

  it("lists the users holding a role", async () => {
    const holders = await kc.roles.findUsersWithRole({ name: "writer" });
    assert.deepEqual(holders.map((u) => u.username), ["user1"]);
  });
});

describe("offline grant", () => {
  before(() => kc.setConfig({ realmName: REALM }));

  it("issues an offline token carrying the info claim", async () => {
    const { status, body } = await token({
      grant_type: "password",
      client_id: "ldap-app",
      client_secret: ids.secret,
      username: "user1",
      password: USER_PW2,
      scope: "openid offline_access info",
    });
    assert.equal(status, 200, JSON.stringify(body));
    const scopes = body.scope.split(" ");
    for (const s of ["openid", "offline_access", "info"]) {
      assert.ok(scopes.includes(s), `${s} in granted scope "${body.scope}"`);
    }
    assert.equal(claims(body.refresh_token).typ, "Offline");
    const access = claims(body.access_token);
    assert.equal(access.info, "hello from ldap-demo", "the scope's hardcoded-claim mapper ran");
    assert.equal(access.exp - access.iat, 60, "the realm's accessTokenLifespan");
    ids.offlineToken = body.refresh_token;
  });

  it("shows up as an offline session and a consent", async () => {
    const offline = await kc.users.listOfflineSessions({ id: ids.user, clientId: ids.client });
    assert.equal(offline.length, 1);
    assertId(offline[0].id, "offline session");
    assert.equal(offline[0].userId, ids.user);
    assert.equal(offline[0].clients[ids.client], "ldap-app");

    assert.equal(await kc.clients.getOfflineSessionCount({ id: ids.client }).then((r) => r.count), 1);
    const byClient = await kc.clients.listOfflineSessions({ id: ids.client });
    assert.deepEqual(byClient.map((s) => s.username), ["user1"]);

    const consents = await kc.users.listConsents({ id: ids.user });
    const c = consents.find((c) => c.clientId === "ldap-app");
    assert.ok(c, `ldap-app in ${JSON.stringify(consents)}`);
    assert.ok(
      c.additionalGrants.some((g) => g.key === "Offline Token"),
      `an Offline Token grant in ${JSON.stringify(c.additionalGrants)}`,
    );
  });

  it("revoking the consent ends the offline grant", async () => {
    await kc.users.revokeConsent({ id: ids.user, clientId: "ldap-app" });
    assert.deepEqual(await kc.users.listOfflineSessions({ id: ids.user, clientId: ids.client }), []);
    assert.ok(!(await kc.users.listConsents({ id: ids.user })).some((c) => c.clientId === "ldap-app"));
    const { status, body } = await token({
      grant_type: "refresh_token",
      client_id: "ldap-app",
      client_secret: ids.secret,
      refresh_token: ids.offlineToken,
    });
    assert.equal(status, 400, JSON.stringify(body));
    assert.equal(body.error, "invalid_grant");
  });
});

describe("permissions", () => {
  before(() => kc.setConfig({ realmName: REALM }));

  it("a view-only realm admin can read but not write", async () => {
    const { id } = await kc.users.create({
      username: "viewer",
      enabled: true,
      credentials: [{ type: "password", value: "viewer-pw", temporary: false }],
    });
    const [rm] = await kc.clients.find({ clientId: "realm-management" });
    assertId(rm?.id, "realm-management");
    const roles = await Promise.all(
      ["view-realm", "view-users"].map((roleName) => kc.clients.findRole({ id: rm.id, roleName })),
    );
    await kc.users.addClientRoleMappings({ id, clientUniqueId: rm.id, roles: roles.map(({ id, name }) => ({ id, name })) });

    const viewer = new KcAdminClient({ baseUrl, realmName: REALM });
    await viewer.auth({ grantType: "password", clientId: "admin-cli", username: "viewer", password: "viewer-pw" });
    assert.equal((await viewer.realms.findOne({ realm: REALM })).realm, REALM);
    const seen = (await viewer.users.find({ username: "user1", exact: true })).map((u) => u.id);
    assert.deepEqual(seen, [ids.user]);

    await rejectsWith(viewer.users.create({ username: "intruder", enabled: true }), 403);
    await rejectsWith(viewer.roles.create({ name: "intruder" }), 403);
    await rejectsWith(viewer.realms.update({ realm: REALM }, { displayName: "owned" }), 403);
    await rejectsWith(viewer.users.resetPassword({ id: ids.user, credential: { type: "password", value: "x" } }), 403);
    await rejectsWith(viewer.realms.findOne({ realm: "master" }), 403);

    // Nothing changed on a refused call.
    assert.deepEqual(await kc.users.find({ username: "intruder", exact: true }), []);
    assert.equal(await kc.roles.findOneByName({ name: "intruder" }), null);
    assert.equal((await kc.realms.findOne({ realm: REALM })).displayName, "LDAP Demo");
  });

  it("no token at all is 401", async () => {
    const res = await fetch(`${baseUrl}/admin/realms/${REALM}/users`);
    assert.equal(res.status, 401);
  });
});

describe("realm operations", () => {
  before(() => kc.setConfig({ realmName: REALM }));

  it("publishes the realm's keys", async () => {
    const { keys, active } = await kc.realms.getKeys({ realm: REALM });
    const rs = keys.find((k) => k.algorithm === "RS256");
    assert.ok(rs, `an RS256 key in ${JSON.stringify(keys)}`);
    assertId(rs.kid, "key");
    assert.equal(rs.type, "RSA");
    assert.equal(typeof rs.publicKey, "string");
    assert.equal(active.RS256, rs.kid);
  });

  it("hands new clients the realm's default optional scopes", async () => {
    const defaults = (await kc.clientScopes.listDefaultClientScopes()).map((s) => s.name);
    assert.ok(defaults.includes("profile"), `profile in ${defaults}`);
    await kc.clientScopes.addDefaultOptionalClientScope({ id: ids.info });
    const optional = await kc.clientScopes.listDefaultOptionalClientScopes();
    assert.ok(optional.some((s) => s.id === ids.info), "info is a default optional scope");

    const { id } = await kc.clients.create({ clientId: "late-app", publicClient: true });
    const got = (await kc.clients.listOptionalClientScopes({ id })).map((s) => s.name);
    assert.ok(got.includes("info"), `late-app inherited info: ${got}`);
    await kc.clientScopes.delDefaultOptionalClientScope({ id: ids.info });
    assert.ok(!(await kc.clientScopes.listDefaultOptionalClientScopes()).some((s) => s.id === ids.info));
    await kc.clients.del({ id });
  });

  it("imports and exports parts of the realm", async () => {
    const res = await kc.realms.partialImport({
      realm: REALM,
      rep: {
        ifResourceExists: "SKIP",
        roles: { realm: [{ name: "imported-role" }, { name: "reader" }] },
        users: [{ username: "imported-user", enabled: true }],
      },
    });
    assert.equal(res.added, 2);
    assert.equal(res.skipped, 1);
    for (const r of res.results) {
      assert.ok(["ADDED", "SKIPPED"].includes(r.action));
      assert.equal(typeof r.resourceName, "string");
      assertId(r.id, `imported ${r.resourceName}`);
    }
    assert.ok(await kc.roles.findOneByName({ name: "imported-role" }));
    assert.deepEqual((await kc.users.find({ username: "imported-user", exact: true })).length, 1);

    const exp = await kc.realms.export({ realm: REALM, exportClients: true, exportGroupsAndRoles: true });
    assert.equal(exp.realm, REALM);
    assert.equal(exp.id, ids.realm);
    const app = exp.clients.find((c) => c.clientId === "ldap-app");
    assert.ok(app, "ldap-app exported");
    assert.notEqual(app.secret, ids.secret, "an export does not carry the secret");
    assert.ok(exp.roles.realm.some((r) => r.name === "writer"));
    assert.ok(exp.groups.some((g) => g.name === "staff"));
  });

  it("logs every session out and pushes the not-before", async () => {
    await kc.realms.logoutAll({ realm: REALM });
    assert.deepEqual(await kc.users.listSessions({ id: ids.user }), []);
    await kc.realms.pushRevocation({ realm: REALM });
  });
});

describe("user profile, credentials and impersonation", () => {
  before(() => kc.setConfig({ realmName: REALM }));

  it("reads the default profile and adds a validated attribute", async () => {
    const profile = await kc.users.getProfile();
    assert.deepEqual(profile.attributes.map((a) => a.name), ["username", "email", "firstName", "lastName"]);
    assert.equal(profile.unmanagedAttributePolicy, "ADMIN_EDIT");
    profile.attributes.push({
      name: "employeeNumber",
      displayName: "Employee number",
      validations: { pattern: { pattern: "^[0-9]{4}$" } },
      permissions: { view: ["admin", "user"], edit: ["admin", "user"] },
      multivalued: false,
    });
    const stored = await kc.users.updateProfile(profile);
    assert.ok(stored.attributes.some((a) => a.name === "employeeNumber"));
    const md = await kc.users.getProfileMetadata();
    assert.ok(md.attributes.some((a) => a.name === "employeeNumber" && a.validators.pattern));
    await rejectsWith(
      kc.users.updateProfile({ attributes: [{ name: "username" }, { name: "email" }, { name: "x", validations: { nope: {} } }] }),
      400,
    );
  });

  it("refuses a value the pattern refuses, with Keycloak's message", async () => {
    await assert.rejects(
      kc.users.create({ username: "badnumber", attributes: { employeeNumber: ["12ab"] } }),
      (err) => {
        assert.equal(err.response?.status, 400);
        assert.equal(err.responseData?.errorMessage, "error-pattern-no-match");
        assert.equal(err.responseData?.field, "employeeNumber");
        return true;
      },
    );
    const u = await kc.users.findOne({ id: ids.user });
    await kc.users.update({ id: ids.user }, { ...u, attributes: { ...u.attributes, employeeNumber: ["1234"] } });
    const after = await kc.users.findOne({ id: ids.user });
    assert.deepEqual(after.attributes.employeeNumber, ["1234"]);
    // department is not in the profile: an unmanaged attribute, kept for administrators.
    assert.deepEqual(await kc.users.getUnmanagedAttributes({ id: ids.user }), { department: ["ldap"] });
  });

  it("labels and orders credentials", async () => {
    const [pw] = await kc.users.getCredentials({ id: ids.user });
    await kc.users.updateCredentialLabel({ id: ids.user, credentialId: pw.id }, "main password");
    const [again] = await kc.users.getCredentials({ id: ids.user });
    assert.equal(again.userLabel, "main password");
    await kc.users.moveCredentialPositionUp({ id: ids.user, credentialId: pw.id });
    await rejectsWith(kc.users.moveCredentialPositionUp({ id: ids.user, credentialId: "nope" }), 404);
    await kc.users.removeTotp({ id: ids.user });
    assert.equal((await kc.users.getCredentials({ id: ids.user })).length, 1, "the password stays");
  });

  it("impersonates a user", async () => {
    const res = await kc.users.impersonation({ id: ids.user }, { user: ids.user, realm: REALM });
    assert.equal(res.redirect, `${baseUrl}/realms/${REALM}/account`);
    assert.equal(res.sameRealm, false);
    await rejectsWith(kc.users.impersonation({ id: "nope" }, { user: "nope", realm: REALM }), 404);
  });
});

describe("realm groups, texts and stats", () => {
  it("keeps default groups and finds groups by path", async () => {
    await kc.realms.addDefaultGroup({ realm: REALM, id: ids.engineers });
    const dg = await kc.realms.getDefaultGroups({ realm: REALM });
    assert.deepEqual(dg.map((g) => g.path), ["/staff/engineers"]);
    const g = await kc.realms.getGroupByPath({ realm: REALM, path: "staff/engineers" });
    assert.equal(g.id, ids.engineers);
    await rejectsWith(kc.realms.getGroupByPath({ realm: REALM, path: "staff/nobody" }), 404);
    await kc.realms.removeDefaultGroup({ realm: REALM, id: ids.engineers });
    assert.deepEqual(await kc.realms.getDefaultGroups({ realm: REALM }), []);
    await rejectsWith(kc.realms.addDefaultGroup({ realm: REALM, id: "nope" }), 404);
  });

  it("sets, lists and deletes localization texts", async () => {
    await kc.realms.addLocalization({ realm: REALM, selectedLocale: "en", key: "loginAccountTitle" }, "Welcome");
    assert.deepEqual(await kc.realms.getRealmSpecificLocales({ realm: REALM }), ["en"]);
    assert.deepEqual(await kc.realms.getRealmLocalizationTexts({ realm: REALM, selectedLocale: "en" }), {
      loginAccountTitle: "Welcome",
    });
    await kc.realms.deleteRealmLocalizationTexts({ realm: REALM, selectedLocale: "en", key: "loginAccountTitle" });
    await rejectsWith(
      kc.realms.deleteRealmLocalizationTexts({ realm: REALM, selectedLocale: "en", key: "loginAccountTitle" }),
      404,
    );
  });

  it("counts client sessions", async () => {
    const stats = await kc.realms.getClientSessionStats({ realm: REALM });
    assert.ok(Array.isArray(stats));
    for (const s of stats) {
      assert.equal(typeof s.active, "string");
    }
  });
});

describe("changes and deletes", () => {
  before(() => kc.setConfig({ realmName: REALM }));

  it("updates a client from what it read", async () => {
    const c = await kc.clients.findOne({ id: ids.client });
    await kc.clients.update({ id: ids.client }, { ...c, description: "changed", redirectUris: ["http://localhost:4000/cb"] });
    const got = await kc.clients.findOne({ id: ids.client });
    assert.equal(got.description, "changed");
    assert.deepEqual(got.redirectUris, ["http://localhost:4000/cb"]);
    assert.equal((await kc.clients.getClientSecret({ id: ids.client })).value, ids.secret, "the secret stays");
  });

  it("updates a client scope, a role, a group and a user", async () => {
    const scope = await kc.clientScopes.findOne({ id: ids.info });
    await kc.clientScopes.update({ id: ids.info }, { ...scope, description: "changed" });
    assert.equal((await kc.clientScopes.findOne({ id: ids.info })).description, "changed");

    await kc.roles.updateByName({ name: "reader" }, { name: "reader", description: "reads more" });
    assert.equal((await kc.roles.findOneByName({ name: "reader" })).description, "reads more");

    await kc.groups.update({ id: ids.staff }, { name: "crew" });
    assert.equal((await kc.groups.findOne({ id: ids.engineers })).path, "/crew/engineers", "the child's path follows");

    await kc.users.update({ id: ids.user }, { firstName: "Changed" });
    const u = await kc.users.findOne({ id: ids.user });
    assert.equal(u.firstName, "Changed");
    assert.equal(u.email, "user1@example.com", "fields left out stay");
  });

  it("removes memberships, role mappings and credentials", async () => {
    // reader reaches user1 through writer and through the group engineers.
    await kc.users.delFromGroup({ id: ids.user, groupId: ids.engineers });
    assert.deepEqual(await kc.users.listGroups({ id: ids.user }), []);
    await kc.users.delRealmRoleMappings({ id: ids.user, roles: [{ id: ids.writer.id, name: "writer" }] });
    const effective = (await kc.users.listCompositeRealmRoleMappings({ id: ids.user })).map((r) => r.name);
    assert.ok(!effective.includes("reader"), `reader left with writer: ${effective}`);
    const available = (await kc.users.listAvailableRealmRoleMappings({ id: ids.user })).map((r) => r.name);
    assert.ok(available.includes("writer"), `writer available again: ${available}`);

    await kc.users.delClientRoleMappings({ id: ids.user, clientUniqueId: ids.client, roles: [{ id: ids.appUser.id, name: "app-user" }] });
    assert.deepEqual(await kc.users.listClientRoleMappings({ id: ids.user, clientUniqueId: ids.client }), []);

    const [cred] = await kc.users.getCredentials({ id: ids.user });
    await kc.users.deleteCredential({ id: ids.user, credentialId: cred.id });
    assert.deepEqual(await kc.users.getCredentials({ id: ids.user }), []);
  });

  it("deletes roles, groups, scopes, users and clients", async () => {
    await kc.clients.delRole({ id: ids.client, roleName: "app-user" });
    assert.equal(await kc.clients.findRole({ id: ids.client, roleName: "app-user" }), null);

    await kc.roles.delByName({ name: "reader" });
    assert.equal(await kc.roles.findOneByName({ name: "reader" }), null);
    assert.deepEqual(await kc.roles.getCompositeRoles({ id: ids.writer.id }), [], "a deleted role leaves composites");

    await kc.groups.del({ id: ids.staff });
    assert.equal(await kc.groups.findOne({ id: ids.staff }), null);
    assert.equal(await kc.groups.findOne({ id: ids.engineers }), null, "subgroups go with their parent");

    await kc.clientScopes.del({ id: ids.info });
    assert.equal(await kc.clientScopes.findOne({ id: ids.info }), null);
    const optional = await kc.clients.listOptionalClientScopes({ id: ids.client });
    assert.ok(!optional.some((s) => s.id === ids.info), "a deleted scope leaves its clients");

    await kc.users.del({ id: ids.user });
    assert.equal(await kc.users.findOne({ id: ids.user }), null);

    const sa = await kc.clients.getServiceAccountUser({ id: ids.client });
    await kc.clients.del({ id: ids.client });
    assert.equal(await kc.clients.findOne({ id: ids.client }), null);
    assert.equal(await kc.users.findOne({ id: sa.id }), null, "the service account goes with its client");
  });
});

describe("server info", () => {
  it("names the protocol mapper types the server supports", async () => {
    kc.setConfig({ realmName: "master" });
    const info = await kc.serverInfo.find();
    assert.equal(typeof info.systemInfo?.version, "string");
    const oidc = info.protocolMapperTypes?.["openid-connect"] ?? [];
    assert.ok(oidc.some((t) => t.id === "oidc-hardcoded-claim-mapper"), "hardcoded-claim mapper listed");
  });
});

describe("client tools, policies and console calls", () => {
  const R = "tools";
  before(async () => {
    kc.setConfig({ realmName: "master" });
    await kc.realms.create({ realm: R, enabled: true });
    kc.setConfig({ realmName: R });
    const { id } = await kc.clients.create({
      clientId: "tool-app",
      publicClient: false,
      secret: "tool-secret",
      serviceAccountsEnabled: true,
      redirectUris: ["https://tool.example/cb"],
    });
    ids.tool = id;
  });
  after(async () => {
    kc.setConfig({ realmName: "master" });
    await kc.realms.del({ realm: R });
  });

  it("evaluates scopes and builds example tokens", async () => {
    const mappers = await kc.clients.evaluateListProtocolMapper({ id: ids.tool, scope: "openid" });
    assert.ok(mappers.some((m) => m.containerType === "client-scope" && m.containerName === "profile"), JSON.stringify(mappers));
    const granted = await kc.clients.evaluatePermission({ id: ids.tool, roleContainer: R, type: "granted", scope: "openid" });
    assert.ok(granted.some((r) => r.name === "offline_access"), JSON.stringify(granted));
    const sa = await kc.clients.getServiceAccountUser({ id: ids.tool });
    const access = await kc.clients.evaluateGenerateAccessToken({ id: ids.tool, userId: sa.id, scope: "openid" });
    assert.equal(access.typ, "Bearer");
    assert.equal(access.azp, "tool-app");
    assert.equal(access.preferred_username, "service-account-tool-app");
    const idt = await kc.clients.evaluateGenerateIdToken({ id: ids.tool, userId: sa.id, scope: "openid" });
    assert.equal(idt.typ, "ID");
    const ui = await kc.clients.evaluateGenerateUserInfo({ id: ids.tool, userId: sa.id, scope: "openid" });
    assert.equal(ui.sub, sa.id);
    await rejectsWith(kc.clients.evaluateGenerateAccessToken({ id: ids.tool, userId: "nobody", scope: "openid" }), 404);
  });

  it("downloads adapter configurations", async () => {
    const json = await kc.clients.getInstallationProviders({ id: ids.tool, providerId: "keycloak-oidc-keycloak-json" });
    const cfg = typeof json === "string" ? JSON.parse(json) : json;
    assert.equal(cfg.realm, R);
    assert.equal(cfg.resource, "tool-app");
    assert.deepEqual(cfg.credentials, { secret: "tool-secret" });
    const xml = await kc.clients.getInstallationProviders({ id: ids.tool, providerId: "keycloak-oidc-jboss-subsystem" });
    assert.match(String(xml), /<resource>tool-app<\/resource>/);
  });

  it("regenerates the registration access token, pushes revocation, registers nodes", async () => {
    const rep = await kc.clients.generateRegistrationAccessToken({ id: ids.tool });
    assert.equal(typeof rep.registrationAccessToken, "string");
    assert.deepEqual(await kc.clients.pushRevocation({ id: ids.tool }), {});
    await kc.clients.addClusterNode({ id: ids.tool, node: "10.1.2.3" });
    const c = await kc.clients.findOne({ id: ids.tool });
    assert.ok(c.registeredNodes?.["10.1.2.3"] > 0, JSON.stringify(c.registeredNodes));
    assert.deepEqual(await kc.clients.testNodesAvailable({ id: ids.tool }), { failedRequests: ["10.1.2.3"] });
    await kc.clients.deleteClusterNode({ id: ids.tool, node: "10.1.2.3" });
    await rejectsWith(kc.clients.deleteClusterNode({ id: ids.tool, node: "10.1.2.3" }), 404);
  });

  it("generates a client key and reads its certificate", async () => {
    const gen = await kc.clients.generateKey({ id: ids.tool, attr: "jwt.credential" });
    assert.equal(typeof gen.privateKey, "string");
    const info = await kc.clients.getKeyInfo({ id: ids.tool, attr: "jwt.credential" });
    assert.equal(info.certificate, gen.certificate);
    assert.equal(info.privateKey, undefined, "the private key is not kept");
  });

  it("drops the rotated secret", async () => {
    await kc.clients.invalidateSecret({ id: ids.tool });
  });

  it("turns fine-grained permissions on and off", async () => {
    // A reference that is on names its resource and one permission per scope.
    const on = (ref, scopes) => {
      assert.equal(ref.enabled, true);
      assertId(ref.resource, "permission resource");
      assert.deepEqual(Object.keys(ref.scopePermissions).sort(), [...scopes].sort());
      for (const s of scopes) assertId(ref.scopePermissions[s], `permission of ${s}`);
    };
    assert.deepEqual(await kc.clients.listFineGrainPermissions({ id: ids.tool }), { enabled: false });
    const clientScopes = ["view", "manage", "configure", "map-roles", "map-roles-client-scope", "map-roles-composite", "token-exchange"];
    on(await kc.clients.updateFineGrainPermission({ id: ids.tool }, { enabled: true }), clientScopes);
    on(await kc.clients.listFineGrainPermissions({ id: ids.tool }), clientScopes);
    assert.deepEqual(await kc.clients.updateFineGrainPermission({ id: ids.tool }, { enabled: false }), { enabled: false });

    const { id: gid } = await kc.groups.create({ name: "tool-group", description: "for tools" });
    assert.equal((await kc.groups.findOne({ id: gid })).description, "for tools");
    assert.deepEqual(await kc.groups.listPermissions({ id: gid }), { enabled: false });
    on(await kc.groups.updatePermission({ id: gid }, { enabled: true }), ["view", "manage", "view-members", "manage-members", "manage-membership"]);
    assert.deepEqual(await kc.groups.updatePermission({ id: gid }, { enabled: false }), { enabled: false });

    await kc.roles.create({ name: "tool-role" });
    const role = await kc.roles.findOneByName({ name: "tool-role" });
    on(await kc.roles.updatePermission({ id: role.id }, { enabled: true }), ["map-role", "map-role-client-scope", "map-role-composite"]);
    assert.equal((await kc.roles.listPermissions({ id: role.id })).enabled, true);
    assert.deepEqual(await kc.roles.updatePermission({ id: role.id }, { enabled: false }), { enabled: false });

    on(await kc.realms.updateUsersManagementPermissions({ realm: REALM, enabled: true }),
      ["view", "manage", "map-roles", "manage-group-membership", "impersonate", "user-impersonated"]);
    assert.equal((await kc.realms.getUsersManagementPermissions({ realm: REALM })).enabled, true);
    assert.deepEqual(await kc.realms.updateUsersManagementPermissions({ realm: REALM, enabled: false }), { enabled: false });
  });

  it("stores client policies and refuses executors it does not run", async () => {
    await rejectsWith(kc.clientPolicies.createProfiles({
      profiles: [{ name: "hok", executors: [{ executor: "holder-of-key-enforcer", configuration: {} }] }],
    }), 400);
    await kc.clientPolicies.createProfiles({
      profiles: [{ name: "no-full-scope", executors: [{ executor: "full-scope-disabled", configuration: { "auto-configure": "true" } }] }],
    });
    await kc.clientPolicies.updatePolicy({
      policies: [{ name: "everyone", enabled: true, conditions: [{ condition: "any-client", configuration: {} }], profiles: ["no-full-scope"] }],
    });
    const profiles = await kc.clientPolicies.listProfiles({ includeGlobalProfiles: true });
    assert.equal(profiles.profiles[0].name, "no-full-scope");
    const policies = await kc.clientPolicies.listPolicies({});
    assert.equal(policies.policies[0].name, "everyone");
    const { id } = await kc.clients.create({ clientId: "scoped", publicClient: false });
    assert.equal((await kc.clients.findOne({ id })).fullScopeAllowed, false);
  });

  it("answers the console's calls", async () => {
    await kc.cache.clearRealmCache();
    await kc.cache.clearUserCache();
    await kc.cache.clearKeysCache();
    // whoami answers only an admin console's token, as Keycloak does.
    kc.setConfig({ realmName: "master" });
    await rejectsWith(kc.whoAmI.find({ currentRealm: R }), 403);
    const msgs = await kc.serverInfo.findEffectiveMessageBundles({ realm: R, themeType: "login", locale: "en" });
    assert.ok(msgs.length > 10 && typeof msgs[0].key === "string");
    const info = await kc.serverInfo.find();
    assert.ok(info.passwordPolicies.some((p) => p.id === "upperCase"));
    assert.ok(info.themes.login.some((t) => t.name === "keycloak.v2"));
    assert.ok(info.protocolMapperTypes["openid-connect"].some((t) => t.id === "oidc-hardcoded-role-mapper"));
    kc.setConfig({ realmName: R });
  });
});
