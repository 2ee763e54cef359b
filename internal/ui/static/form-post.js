// Sends the authorization response to the client as soon as the page loads
// (OAuth 2.0 Form Post Response Mode); the noscript button is the fallback.
document.getElementById('kc-form-post').submit();
