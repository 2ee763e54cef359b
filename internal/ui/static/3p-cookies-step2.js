// Tells the page that framed the check whether the cookie set by step 1
// came back: keycloak-js listens for "supported" or "unsupported".
(function () {
  'use strict';
  var result = document.body.getAttribute('data-result') === 'supported' ? 'supported' : 'unsupported';
  if (window.parent && window.parent !== window) {
    window.parent.postMessage(result, '*');
  }
})();
