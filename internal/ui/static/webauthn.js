// Runs the WebAuthn ceremony of a login page: the server's options (JSON,
// binary fields base64url) go to navigator.credentials, and the answer goes
// back in the form as JSON with its binary fields base64url, the layout
// the server's WebAuthn library reads.
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
    navigator.credentials.get({ publicKey: pk }).then(function (c) {
      var r = c.response;
      submit(answer(c, { authenticatorData: toText(r.authenticatorData), signature: toText(r.signature), userHandle: toText(r.userHandle) }));
    }).catch(failed);
  }

  var button = document.getElementById(mode === "create" ? "registerWebAuthn" : "authenticateWebAuthnButton");
  if (!window.PublicKeyCredential) {
    button.disabled = true;
    return;
  }
  button.addEventListener("click", run);
})();
