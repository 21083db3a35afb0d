/* omamori console: small conveniences only; every page works without it.
 * Served from /static (the Content-Security-Policy allows no inline script). */
'use strict';
document.addEventListener('DOMContentLoaded', function () {
  // a table row with data-href opens its page when clicked anywhere
  document.querySelectorAll('tr[data-href]').forEach(function (tr) {
    tr.classList.add('link');
    tr.addEventListener('click', function (e) {
      if (e.target.closest('a')) return;
      window.location.assign(tr.getAttribute('data-href'));
    });
  });
  // a select marked data-submit sends its form when changed
  document.querySelectorAll('select[data-submit]').forEach(function (s) {
    s.addEventListener('change', function () { s.form.submit(); });
  });
});
