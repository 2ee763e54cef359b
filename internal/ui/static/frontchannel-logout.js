// Once every logout iframe has loaded, the browser continues to the
// post-logout redirect; the Continue link is the fallback.
function continueWhenLoaded() {
  if (document.readyState === 'complete') {
    window.location.replace(document.getElementById('continue').href);
  }
}
document.addEventListener('readystatechange', continueWhenLoaded);
continueWhenLoaded();
