// Tells Practika the browser's time zone the first time it is unknown
// (the page loads this only then), so that times are shown in it from the
// next page on; on this page, the exact times on hover are redone in it.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch || !window.Intl) { return; }
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone) { return; }
  fetch("/account/time-zone", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": script.getAttribute("data-csrf") },
    body: "time_zone=" + encodeURIComponent(zone),
  }).then(function (response) {
    if (!response.ok) { return; }
    var exact = new Intl.DateTimeFormat(undefined, {
      weekday: "long", day: "numeric", month: "long", year: "numeric",
      hour: "2-digit", minute: "2-digit", timeZone: zone, timeZoneName: "short",
    });
    document.querySelectorAll("time[datetime]").forEach(function (time) {
      var at = new Date(time.getAttribute("datetime"));
      if (!isNaN(at)) { time.title = exact.format(at); }
    });
  }).catch(function () {});
})();
