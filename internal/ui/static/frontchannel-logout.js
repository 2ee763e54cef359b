// Once every logout iframe has loaded, the browser continues: to the
// post-logout redirect (a link), or by posting the form that follows (a
// SAML LogoutResponse). The link or the form's button is the fallback.
var continued = false;
function continueWhenLoaded() {
  if (document.readyState === 'complete' && !continued) {
    continued = true;
    var next = document.getElementById('continue');
    if (next.tagName === 'FORM') {
      next.submit();
    } else {
      window.location.replace(next.href);
    }
  }
}
document.addEventListener('readystatechange', continueWhenLoaded);
continueWhenLoaded();
