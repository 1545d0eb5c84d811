// The console's only script of its own: send the CSRF token with every htmx request.
// Plain forms carry it as a hidden field; pages work without this file.
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) {
      event.detail.headers["X-CSRF-TOKEN"] = meta.content;
    }
  });
})();
