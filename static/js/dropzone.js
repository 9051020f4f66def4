// The videos page takes several files at once: dropped on it, or chosen
// with "choose files". Each file uploads on its own (resumable, through
// uploader.js) with its own progress bar and Cancel, which ends the upload
// on the server too (tus termination). Without JavaScript the page links
// to the ordinary upload form.
import { supported, startUpload, formatBytes } from "./uploader.js";

const zone = document.querySelector("[data-dropzone]");
if (zone && supported()) {
  zone.hidden = false;
  const list = zone.querySelector("[data-upload-list]");
  const input = zone.querySelector("input[type=file]");
  const csrf = zone.getAttribute("data-csrf");
  const limit = Number(zone.getAttribute("data-max-bytes")) || 0;
  // A few at a time: the server takes only a few per user at once.
  const PARALLEL = 2;
  const waiting = [];
  let active = 0;

  function row(file) {
    const item = document.createElement("li");
    item.className = "upload-item";
    const name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", "Upload of " + file.name);
    const state = document.createElement("span");
    state.className = "upload-state muted";
    state.textContent = "Waiting…";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn btn-secondary btn-small";
    cancel.textContent = "Cancel";
    cancel.setAttribute("aria-label", "Cancel the upload of " + file.name);
    item.append(name, bar, state, cancel);
    list.append(item);
    return { item, bar, state, cancel };
  }

  function next() {
    while (active < PARALLEL && waiting.length) {
      const job = waiting.shift();
      if (!job.cancelled) { run(job); }
    }
  }

  function settle(job, text, ok) {
    job.ui.state.textContent = text;
    job.ui.item.classList.add(ok ? "upload-done" : "upload-failed");
    job.ui.cancel.remove();
    if (job.running) { job.running = null; active -= 1; next(); }
  }

  function run(job) {
    active += 1;
    let resumed = "";
    job.ui.state.textContent = "Starting…";
    job.running = startUpload(job.file, {
      csrf,
      onResume(percent) { resumed = "resuming at " + percent + " % · "; job.ui.state.textContent = "Resuming at " + percent + " %"; },
      onProgress(sent, total) {
        const percent = total ? Math.floor(sent * 100 / total) : 0;
        job.ui.bar.value = percent;
        job.ui.state.textContent = sent >= total ? "Checking the video…" : resumed + percent + " % of " + formatBytes(total);
      },
      onDone(result) {
        job.ui.bar.value = 100;
        settle(job, "", true);
        const link = document.createElement("a");
        link.href = result.location;
        link.textContent = "Uploaded: open the video";
        job.ui.state.append(link);
      },
      onError(messages) { settle(job, messages.join(" "), false); },
    });
  }

  function add(files) {
    Array.from(files).forEach((file) => {
      const job = { file, ui: row(file), running: null, cancelled: false };
      job.ui.cancel.addEventListener("click", () => {
        job.cancelled = true;
        if (job.running) { job.running.cancel(); }
        settle(job, "Cancelled. Nothing was kept.", false);
      });
      if (limit && file.size > limit) {
        settle(job, "Larger than the upload limit (" + formatBytes(limit) + "): not uploaded.", false);
        return;
      }
      waiting.push(job);
    });
    next();
  }

  input.addEventListener("change", () => { add(input.files); input.value = ""; });
  // The whole page takes the drop, the zone shows it.
  document.addEventListener("dragover", (event) => {
    if (event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files")) {
      event.preventDefault();
      zone.classList.add("dropzone-active");
    }
  });
  document.addEventListener("dragleave", (event) => {
    if (!event.relatedTarget) { zone.classList.remove("dropzone-active"); }
  });
  document.addEventListener("drop", (event) => {
    if (!event.dataTransfer || !event.dataTransfer.files.length) { return; }
    event.preventDefault();
    zone.classList.remove("dropzone-active");
    add(event.dataTransfer.files);
  });
}
