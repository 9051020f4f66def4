// Staff lists: a "select all" box for the bulk actions. Without this
// script the box stays hidden and each row is ticked on its own.
(function () {
  "use strict";
  document.querySelectorAll("form.bulk-form").forEach(function (form) {
    var all = form.querySelector("input.select-all");
    if (!all) return;
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=ids]"));
    all.hidden = false;
    function sync() {
      var checked = boxes.filter(function (b) { return b.checked; }).length;
      all.checked = checked === boxes.length && checked > 0;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
    });
    boxes.forEach(function (b) { b.addEventListener("change", sync); });
    sync();
  });
})();
