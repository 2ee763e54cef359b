// What the .test.mjs files share: the server adminclient_test.go started,
// and a master-realm admin token for setting up what a test needs.
import assert from "node:assert/strict";

export const baseUrl = process.env.GATEHOUSE_URL;
if (!baseUrl) {
  throw new Error("GATEHOUSE_URL is not set (the Gatehouse base URL, e.g. http://localhost:8080)");
}

// adminToken logs the bootstrap admin in to master by the password grant.
export async function adminToken() {
  const res = await fetch(`${baseUrl}/realms/master/protocol/openid-connect/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "password", client_id: "admin-cli", username: "admin", password: "admin-pw" }),
  });
  assert.equal(res.status, 200, "admin login");
  return (await res.json()).access_token;
}
