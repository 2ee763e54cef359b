// The session check keycloak-js runs in a hidden iframe: the application
// posts "<client_id> <session id>" and gets back "unchanged" while the
// browser still holds that SSO session, "changed" when it holds none or
// another one, and "error" when the client may not ask from its origin.
//
// The origin is checked once per client with the server (.../init), and the
// answer is posted to that origin only. KEYCLOAK_SESSION holds the base64url
// SHA-256 of the session id, so the id itself is never readable by script.
(function () {
  'use strict';
  var MAX_CLIENTS = 8; // bounds the init requests a hostile frame can cause
  var allowed = {};
  var count = 0;

  function sessionCookie() {
    var parts = document.cookie.split(';');
    for (var i = 0; i < parts.length; i++) {
      var kv = parts[i].replace(/^\s+/, '');
      if (kv.indexOf('KEYCLOAK_SESSION=') === 0) {
        return kv.substring('KEYCLOAK_SESSION='.length);
      }
    }
    return '';
  }

  function base64url(buf) {
    var bytes = new Uint8Array(buf);
    var s = '';
    for (var i = 0; i < bytes.length; i++) {
      s += String.fromCharCode(bytes[i]);
    }
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function originAllowed(clientId, origin) {
    var key = clientId + ' ' + origin;
    if (!allowed[key]) {
      if (count >= MAX_CLIENTS) {
        return Promise.resolve(false);
      }
      count++;
      var url = location.pathname + '/init?client_id=' + encodeURIComponent(clientId) +
        '&origin=' + encodeURIComponent(origin);
      allowed[key] = fetch(url, { credentials: 'same-origin', cache: 'no-store' }).then(
        function (r) { return r.status === 204; },
        function () { return false; });
    }
    return allowed[key];
  }

  function sessionStatus(sessionState) {
    var cookie = sessionCookie();
    if (!sessionState) {
      return Promise.resolve(cookie ? 'changed' : 'unchanged');
    }
    if (!cookie) {
      return Promise.resolve('changed');
    }
    if (!window.crypto || !window.crypto.subtle) {
      return Promise.resolve('error'); // not a secure context
    }
    return window.crypto.subtle.digest('SHA-256', new TextEncoder().encode(sessionState)).then(function (d) {
      return base64url(d) === cookie ? 'unchanged' : 'changed';
    });
  }

  window.addEventListener('message', function (event) {
    if (typeof event.data !== 'string' || !event.source) {
      return;
    }
    var parts = event.data.split(' ');
    if (parts.length !== 2 || !parts[0]) {
      return;
    }
    var source = event.source;
    var origin = event.origin;
    var reply = function (answer) {
      try {
        source.postMessage(answer, origin);
      } catch (e) {
        // an opaque origin ("null") cannot be answered
      }
    };
    originAllowed(parts[0], origin).then(function (ok) {
      return ok ? sessionStatus(parts[1]) : 'error';
    }).then(reply, function () { reply('error'); });
  }, false);
})();
