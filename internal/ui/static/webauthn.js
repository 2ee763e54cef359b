// Runs the WebAuthn ceremony of a login page: the server's options (JSON,
// binary fields base64url) go to navigator.credentials, and the answer goes
// back in the form as JSON with its binary fields base64url, the layout
// the server's WebAuthn library reads. Modes: "create" (register), "get"
// (the passkey or security key page) and "conditional" (the passkey a
// login form offers in its username field's autofill).
(function () {
  "use strict";
  var form = document.querySelector("form[data-webauthn-mode]");
  if (!form) return;
  var mode = form.getAttribute("data-webauthn-mode");
  var options = JSON.parse(form.getAttribute("data-webauthn-options"));

  function toBytes(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function toText(buf) {
    if (!buf) return undefined;
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function descriptors(list) {
    return (list || []).map(function (d) {
      var o = { type: d.type, id: toBytes(d.id) };
      if (d.transports) o.transports = d.transports;
      return o;
    });
  }
  function submit(response, error) {
    document.getElementById("webauthnResponse").value = response ? JSON.stringify(response) : "";
    document.getElementById("error").value = error || "";
    form.submit();
  }

  // answer is the credential as the server reads it; fields are the
  // response's own (attestation or assertion).
  function answer(c, fields) {
    var response = { clientDataJSON: toText(c.response.clientDataJSON) };
    for (var k in fields) response[k] = fields[k];
    return {
      id: c.id, rawId: toText(c.rawId), type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
      response: response
    };
  }
  function failed(e) { submit(null, String(e && e.name || e)); }

  function assertion(c) {
    var r = c.response;
    return answer(c, { authenticatorData: toText(r.authenticatorData), signature: toText(r.signature), userHandle: toText(r.userHandle) });
  }
  function getOptions() {
    var pk = JSON.parse(form.getAttribute("data-webauthn-options")).publicKey;
    pk.challenge = toBytes(pk.challenge);
    pk.allowCredentials = descriptors(pk.allowCredentials);
    return pk;
  }

  function run() {
    var pk = options.publicKey;
    pk.challenge = toBytes(pk.challenge);
    if (mode === "create") {
      pk.user.id = toBytes(pk.user.id);
      pk.excludeCredentials = descriptors(pk.excludeCredentials);
      navigator.credentials.create({ publicKey: pk }).then(function (c) {
        var r = c.response;
        submit(answer(c, { attestationObject: toText(r.attestationObject), transports: r.getTransports ? r.getTransports() : [] }));
      }).catch(failed);
      return;
    }
    pk.allowCredentials = descriptors(pk.allowCredentials);
    navigator.credentials.get({ publicKey: pk }).then(function (c) { submit(assertion(c)); }).catch(failed);
  }

  // The page renders the button disabled: a click before this script has
  // run would otherwise be lost. It is enabled once its handler is there.
  var button = document.getElementById(mode === "create" ? "registerWebAuthn" : "authenticateWebAuthnButton");
  if (!window.PublicKeyCredential || !button) return;
  if (mode !== "conditional") {
    button.addEventListener("click", run);
    button.disabled = false;
    return;
  }

  // A login form's passkey: offered in the autofill of the field marked
  // "webauthn" where the browser can (conditional mediation), and by the
  // button, which first ends the autofill offer (one request at a time).
  var pending = null;
  function offer() {
    if (!PublicKeyCredential.isConditionalMediationAvailable) return;
    PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
      if (!ok) return;
      pending = new AbortController();
      navigator.credentials.get({ mediation: "conditional", publicKey: getOptions(), signal: pending.signal })
        .then(function (c) { submit(assertion(c)); })
        .catch(function (e) {
          // Aborted for the button, or nothing chosen: the form stays.
          if (window.console) console.info("passkey autofill ended: " + (e && e.name));
        });
    });
  }
  var login = document.getElementById("kc-form-login");
  if (login) {
    // A username or password sent ends the offer.
    login.addEventListener("submit", function () { if (pending) pending.abort(); });
  }
  button.addEventListener("click", function () {
    if (pending) pending.abort();
    pending = null;
    navigator.credentials.get({ publicKey: getOptions() }).then(function (c) { submit(assertion(c)); }).catch(failed);
  });
  button.disabled = false;
  offer();
})();
