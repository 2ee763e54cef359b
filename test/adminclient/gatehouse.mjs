// What every test file here needs from the server adminclient_test.go
// starts: its base URL, and a token of the master realm's administrator.
import assert from "node:assert/strict";

export const baseUrl = process.env.GATEHOUSE_URL;
if (!baseUrl) {
  throw new Error("GATEHOUSE_URL is not set (the Gatehouse base URL, e.g. http://localhost:8080)");
}

// adminToken signs in as the bootstrap administrator admin/admin-pw.
export async function adminToken() {
  const res = await fetch(`${baseUrl}/realms/master/protocol/openid-connect/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "password", client_id: "admin-cli", username: "admin", password: "admin-pw" }),
  });
  assert.equal(res.status, 200, "admin login");
  return (await res.json()).access_token;
}
