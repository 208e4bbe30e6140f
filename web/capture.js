/* capture.js — first script of silica's HTML reports: keeps every error and warning the page raises
 * (uncaught exceptions, rejected promises, console.error/warn, which is where vega logs) in
 * window.__silica_errors, so that the browser test can check that there are none.  Inlined. */
window.__silica_errors = [];
(function () {
  'use strict';
  var errors = window.__silica_errors;
  window.addEventListener('error', function (e) {
    errors.push('error: ' + (e.message || e) + (e.filename ? ' at ' + e.filename + ':' + e.lineno : ''));
  });
  window.addEventListener('unhandledrejection', function (e) {
    errors.push('unhandled rejection: ' + (e.reason && e.reason.stack ? e.reason.stack : e.reason));
  });
  ['error', 'warn'].forEach(function (level) {
    var original = console[level];
    console[level] = function () {
      errors.push('console.' + level + ': ' + Array.prototype.map.call(arguments, String).join(' '));
      return original.apply(console, arguments);
    };
  });
})();
