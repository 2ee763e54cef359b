// Gatehouse administration console: small conveniences on top of pages that
// work without script. Buttons with data-confirm ask before they submit;
// buttons with data-copy copy the named field; a refused form's error is
// focused so that screen readers announce it.
(function () {
  'use strict';
  document.addEventListener('submit', function (e) {
    var b = e.submitter;
    var question = b && b.getAttribute('data-confirm');
    if (question && !window.confirm(question)) {
      e.preventDefault();
    }
  });
  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('[data-copy]');
    if (!b) {
      return;
    }
    var field = document.getElementById(b.getAttribute('data-copy'));
    if (!field) {
      return;
    }
    field.select();
    if (navigator.clipboard) {
      navigator.clipboard.writeText(field.value).then(function () { b.textContent = 'Copied'; });
    }
  });
  document.addEventListener('DOMContentLoaded', function () {
    var alert = document.getElementById('form-error');
    if (alert) {
      var invalid = document.querySelector('[aria-invalid="true"]');
      (invalid || alert).focus();
    }
  });
}());
