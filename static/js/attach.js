// Upload a video from an exercise or comment form, with progress, speed and
// cancel, then choose it in the form's video list. Without this script the
// form still works with videos uploaded on the Videos page.
(function () {
  "use strict";
  document.querySelectorAll("[data-attach-upload]").forEach(function (box) {
    // Once per box, even if a page loads this script twice: two listeners
    // would upload the chosen file twice.
    if (box.hasAttribute("data-attach-ready")) { return; }
    box.setAttribute("data-attach-ready", "");
    var form = box.closest("form");
    var target = form && form.querySelector("[data-attach-target]");
    var input = box.querySelector("input[type=file]");
    if (!form || !target || !input || !window.XMLHttpRequest) { return; }
    box.hidden = false;
    var progress = box.querySelector("[data-progress]");
    var bar = progress.querySelector("progress");
    var text = box.querySelector("[data-progress-text]");
    var cancel = box.querySelector("[data-cancel]");
    var error = box.querySelector("[data-upload-error]");
    var submit = form.querySelector("button[type=submit]");
    var limit = parseInt(box.getAttribute("data-max-bytes"), 10) || 0;
    var request = null;

    function fail(message) {
      error.textContent = message; error.hidden = false;
      progress.hidden = true; input.disabled = false; if (submit) { submit.disabled = false; }
    }

    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      error.hidden = true;
      if (!file) { return; }
      if (limit && file.size > limit) { fail("This file is larger than the upload limit."); input.value = ""; return; }
      var data = new FormData();
      data.append("file", file);
      request = new XMLHttpRequest();
      request.open("POST", "/videos");
      request.setRequestHeader("Accept", "application/json");
      request.setRequestHeader("X-CSRF-Token", box.getAttribute("data-csrf"));
      var started = Date.now();
      request.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { return; }
        var percent = Math.round(e.loaded / e.total * 100);
        var seconds = Math.max((Date.now() - started) / 1000, 0.001);
        bar.value = percent;
        text.textContent = percent + "% · " + (e.loaded / seconds / 1048576).toFixed(1) + " MB/s";
      });
      request.addEventListener("load", function () {
        var body = {};
        try { body = JSON.parse(request.responseText); } catch (ignored) { body = {}; }
        if (request.status >= 200 && request.status < 300 && body.id) {
          var option = document.createElement("option");
          option.value = body.id;
          option.textContent = file.name + " · just uploaded";
          target.insertBefore(option, target.options[1] || null);
          target.value = body.id;
          text.textContent = "Uploaded: " + file.name + ". It is chosen below.";
          cancel.hidden = true; bar.hidden = true;
          input.value = ""; input.disabled = false; if (submit) { submit.disabled = false; }
        } else {
          fail((body.errors && body.errors.join(" ")) || "The upload failed. Please try again.");
        }
      });
      request.addEventListener("error", function () { fail("The connection was lost during the upload."); });
      request.addEventListener("abort", function () { fail("Upload cancelled."); });
      progress.hidden = false; cancel.hidden = false; bar.hidden = false; bar.value = 0; text.textContent = "Starting…";
      input.disabled = true; if (submit) { submit.disabled = true; }
      request.send(data);
    });
    cancel.addEventListener("click", function () { if (request) { request.abort(); } });
  });
})();
