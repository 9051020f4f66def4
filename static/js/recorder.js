// "Record my attempt" on the exercise page: the camera with MediaRecorder
// (WebM or MP4, whichever this browser records), the demonstration playing
// in the page's player (its A–B loop when set, or in a small
// picture-in-picture window), a 3-2-1 count-in, an optional mirrored
// preview, stop, review, retake or keep. A kept take is uploaded like any
// file (attach.js → uploader.js, resumable), chosen in the comment form and
// pinned to the range of the demonstration that was playing; the student
// then posts it. Without MediaRecorder, the camera's own file picker
// (`capture="user"`) does the recording.
import { attachFile } from "./attach.js";

const TYPES = ["video/webm;codecs=vp9,opus", "video/webm;codecs=vp8,opus", "video/webm", "video/mp4;codecs=avc1,mp4a", "video/mp4"];
const COUNT_IN = 3;

/** The container this browser records, or null. */
export function recordingType() {
  if (!window.MediaRecorder || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { return null; }
  if (typeof MediaRecorder.isTypeSupported !== "function") { return ""; }
  return TYPES.find((type) => MediaRecorder.isTypeSupported(type)) || null;
}

/** What went wrong with the camera, in plain words. */
export function cameraProblem(error) {
  switch (error && error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Practika was not allowed to use your camera. Allow the camera (and microphone) for this site in your browser's settings, then press Record again.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No camera was found. Connect a camera and press Record again, or upload a video you recorded instead.";
    case "NotReadableError":
    case "AbortError":
      return "Your camera is busy: another app or tab is using it. Close that one, then press Record again.";
    default:
      return "The camera could not be started (" + ((error && error.message) || "unknown error") + "). You can upload a video you recorded instead.";
  }
}

function seconds(value) { return value.toFixed(2); }

export function mountRecorder(root, player) {
  const form = root && root.parentElement && root.parentElement.querySelector("form");
  const box = form && form.querySelector("[data-attach-upload]");
  if (!root || !form || !box) { return; }
  const q = (name) => root.querySelector("[data-record-" + name + "]");
  const open = q("open");
  const fallback = q("fallback");
  const panel = q("panel");
  const preview = q("preview");
  const review = q("review");
  const count = q("count");
  const mirror = q("mirror");
  const pip = q("pip");
  const start = q("start");
  const stop = q("stop");
  const retake = q("retake");
  const keep = q("keep");
  const close = q("close");
  const error = q("error");
  const rangeNote = q("range");
  const from = form.querySelector("[data-range-input=a]");
  const to = form.querySelector("[data-range-input=b]");
  const demo = player && player.video;
  root.hidden = false;

  const type = recordingType();
  if (type === null) {
    // No MediaRecorder (older phones): the camera app records, the file uploads.
    open.hidden = true;
    fallback.hidden = false;
    const capture = fallback.querySelector("input[type=file]");
    capture.addEventListener("change", () => {
      const file = capture.files && capture.files[0];
      if (file) { attachFile(box, file); }
      capture.value = "";
    });
    return;
  }

  let stream = null;
  let recorder = null;
  let chunks = [];
  let take = null;
  let range = null;
  let counting = null;
  let startedAt = 0;

  function show(...shown) {
    [start, stop, retake, keep].forEach((button) => { button.hidden = !shown.includes(button); });
  }

  function fail(message) {
    error.textContent = message;
    error.hidden = false;
  }

  function describeRange() {
    const marks = player ? player.marks : { a: null, b: null };
    rangeNote.textContent = marks.a !== null && marks.b !== null
      ? "The demonstration loops " + seconds(marks.a) + " s – " + seconds(marks.b) + " s while you record."
      : "Set A and B on the player to practise against a part of the demonstration; otherwise it plays from where it is.";
  }

  function stopCamera() {
    if (stream) { stream.getTracks().forEach((track) => track.stop()); }
    stream = null;
    preview.srcObject = null;
  }

  function clearTake() {
    if (take) { URL.revokeObjectURL(review.src); }
    take = null;
    review.removeAttribute("src");
    review.hidden = true;
    preview.hidden = false;
  }

  function closePanel() {
    if (counting) { clearInterval(counting); counting = null; }
    if (recorder && recorder.state !== "inactive") { recorder.onstop = null; recorder.stop(); }
    if (demo) { demo.pause(); }
    stopCamera();
    clearTake();
    count.textContent = "";
    panel.hidden = true;
    open.hidden = false;
    open.focus();
  }

  open.addEventListener("click", async () => {
    error.hidden = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" }, audio: true });
    } catch (problem) {
      fail(cameraProblem(problem));
      error.hidden = false;
      panel.hidden = false;
      show();
      return;
    }
    preview.srcObject = stream;
    preview.play().catch(() => {});
    panel.hidden = false;
    open.hidden = true;
    pip.hidden = !(demo && document.pictureInPictureEnabled);
    describeRange();
    show(start);
    start.focus();
  });

  if (player) { player.onMarks(describeRange); }
  mirror.addEventListener("change", () => { preview.classList.toggle("recorder-mirrored", mirror.checked); });
  pip.addEventListener("click", () => {
    if (document.pictureInPictureElement) { document.exitPictureInPicture().catch(() => {}); return; }
    demo.requestPictureInPicture().catch(() => fail("This browser would not open the small window."));
  });
  close.addEventListener("click", closePanel);

  function record() {
    chunks = [];
    recorder = type ? new MediaRecorder(stream, { mimeType: type }) : new MediaRecorder(stream);
    recorder.ondataavailable = (event) => { if (event.data && event.data.size) { chunks.push(event.data); } };
    recorder.onstop = () => {
      const recorded = recorder.mimeType || type || "video/webm";
      take = new Blob(chunks, { type: recorded.split(";")[0] });
      review.src = URL.createObjectURL(take);
      review.hidden = false;
      preview.hidden = true;
      count.textContent = "";
      show(retake, keep);
      keep.focus();
    };
    const marks = player ? player.marks : { a: null, b: null };
    if (demo) {
      if (marks.a !== null && marks.b !== null) {
        range = { a: marks.a, b: marks.b };
        player.loop(marks.a, marks.b);
      } else {
        range = { a: demo.currentTime, b: null };
        demo.play().catch(() => {});
      }
    }
    startedAt = Date.now();
    recorder.start(1000);
    count.textContent = "Recording…";
    show(stop);
    stop.focus();
  }

  start.addEventListener("click", () => {
    error.hidden = true;
    clearTake();
    show();
    let left = COUNT_IN;
    count.textContent = String(left);
    counting = setInterval(() => {
      left -= 1;
      if (left > 0) { count.textContent = String(left); return; }
      clearInterval(counting);
      counting = null;
      record();
    }, 1000);
  });

  stop.addEventListener("click", () => {
    if (!recorder || recorder.state === "inactive") { return; }
    if (demo) {
      if (range && range.b === null) { range.b = Math.max(demo.currentTime, range.a + 0.5); }
      demo.pause();
    }
    recorder.stop();
  });

  retake.addEventListener("click", () => {
    clearTake();
    show(start);
    start.click();
  });

  keep.addEventListener("click", () => {
    if (!take) { return; }
    const extension = take.type === "video/mp4" ? "mp4" : "webm";
    const stamp = new Date(startedAt).toISOString().slice(0, 19).replace(/[:T]/g, "-");
    const file = new File([take], "attempt-" + stamp + "." + extension, { type: take.type, lastModified: startedAt });
    if (range && from && to && range.b !== null) {
      from.value = seconds(range.a);
      to.value = seconds(range.b);
    }
    closePanel();
    attachFile(box, file, () => {
      const submit = form.querySelector("button[type=submit]");
      if (submit) { submit.focus(); }
    });
  });
}
