// Gatehouse account console: shows every <time datetime> in the reader's
// own time zone and language. The pages work without it (they show UTC).
document.addEventListener('DOMContentLoaded', function () {
  var lang = document.documentElement.lang || undefined;
  document.querySelectorAll('time[datetime]').forEach(function (el) {
    var d = new Date(el.getAttribute('datetime'));
    if (isNaN(d.getTime())) return;
    try {
      el.textContent = d.toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' });
      el.title = el.getAttribute('datetime');
    } catch (e) { /* keep the UTC text */ }
  });
});
