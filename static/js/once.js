// Forms marked data-once are sent once: the first submit disables their
// buttons, and a second one (a double click, Enter pressed twice) is
// dropped. The server stores one row per submission anyway (the form's
// one-time key); this spares the second request. If the browser shows the
// page again from its back-forward cache, the buttons work again.
(function () {
  "use strict";
  var SENDING = "data-once-sending";
  var DISABLED = "data-once-disabled";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-once")) { return; }
    // Another script stopped this submit (it was not sent): nothing to do.
    if (event.defaultPrevented) { return; }
    if (form.hasAttribute(SENDING)) { event.preventDefault(); return; }
    form.setAttribute(SENDING, "");
    // After this task, so that the pressed button's name and value still go
    // with the form.
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]").forEach(function (button) {
        if (button.disabled) { return; }
        button.disabled = true;
        button.setAttribute(DISABLED, "");
        button.setAttribute("aria-busy", "true");
      });
    }, 0);
  });

  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[" + SENDING + "]").forEach(function (form) {
      form.removeAttribute(SENDING);
      form.querySelectorAll("[" + DISABLED + "]").forEach(function (button) {
        button.disabled = false;
        button.removeAttribute(DISABLED);
        button.removeAttribute("aria-busy");
      });
    });
  });
})();
