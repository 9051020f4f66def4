// Upload a video from an exercise or comment form, with progress, speed and
// cancel (resumable, through uploader.js), then choose it in the form's
// video list. Without this script the form still works with videos uploaded
// on the Videos page. The recorder (recorder.js) hands its recording to the
// same box through `attachFile`.
import { supported, startUpload, formatBytes, rateMeter } from "./uploader.js";

/** Uploads `file` through the form's attach box; `onChosen(id)` when it is chosen. */
export function attachFile(box, file, onChosen) {
  if (box.practikaAttach) { box.practikaAttach(file, onChosen); }
}

document.querySelectorAll("[data-attach-upload]").forEach(function (box) {
  // Once per box, even if a page loads this script twice: two listeners
  // would upload the chosen file twice.
  if (box.hasAttribute("data-attach-ready")) { return; }
  box.setAttribute("data-attach-ready", "");
  const form = box.closest("form");
  const target = form && form.querySelector("[data-attach-target]");
  const input = box.querySelector("input[type=file]");
  if (!form || !target || !input || !supported()) { return; }
  box.hidden = false;
  const progress = box.querySelector("[data-progress]");
  const bar = progress.querySelector("progress");
  const text = box.querySelector("[data-progress-text]");
  const cancel = box.querySelector("[data-cancel]");
  const error = box.querySelector("[data-upload-error]");
  const submit = form.querySelector("button[type=submit]");
  const limit = parseInt(box.getAttribute("data-max-bytes"), 10) || 0;
  let running = null;

  function fail(message) {
    running = null;
    error.textContent = message; error.hidden = false;
    progress.hidden = true; input.disabled = false; if (submit) { submit.disabled = false; }
  }

  function send(file, onChosen) {
    error.hidden = true;
    if (running) { return; }
    if (limit && file.size > limit) { fail("This file is larger than the upload limit."); input.value = ""; return; }
    const meter = rateMeter();
    let resumed = "";
    progress.hidden = false; cancel.hidden = false; bar.hidden = false; bar.value = 0; text.textContent = "Starting…";
    input.disabled = true; if (submit) { submit.disabled = true; }
    running = startUpload(file, {
      csrf: box.getAttribute("data-csrf"),
      onResume(percent) { resumed = "Resuming at " + percent + " % · "; text.textContent = "Resuming at " + percent + " %"; },
      onProgress(loaded, total) {
        const percent = total ? Math.round(loaded / total * 100) : 0;
        meter.sample(loaded);
        const speed = meter.perSecond();
        bar.value = percent;
        text.textContent = loaded >= total ? "Checking the video…"
          : resumed + percent + "%" + (speed > 0 ? " · " + formatBytes(speed) + "/s" : "");
      },
      onDone(result) {
        running = null;
        const option = document.createElement("option");
        option.value = result.id;
        option.textContent = (file.name || "Recording") + " · just uploaded";
        target.insertBefore(option, target.options[1] || null);
        target.value = result.id;
        text.textContent = "Uploaded: " + (file.name || "your recording") + ". It is chosen below.";
        cancel.hidden = true; bar.hidden = true;
        input.value = ""; input.disabled = false; if (submit) { submit.disabled = false; }
        if (onChosen) { onChosen(result.id); }
      },
      onError(messages) { fail(messages.join(" ")); },
    });
  }

  box.practikaAttach = send;
  input.addEventListener("change", function () {
    const file = input.files && input.files[0];
    if (file) { send(file); }
  });
  cancel.addEventListener("click", function () {
    if (running) { running.cancel(); }
    fail("Upload cancelled. Nothing was kept.");
  });
});
