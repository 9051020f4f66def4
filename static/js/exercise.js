// The exercise page: the demonstration player, the full player (and the
// review studio) on every attempt of the thread, the range chips (each
// seeks its video, the demonstration or an attempt, and loops its range),
// the comment form's range filled from the viewer's own A and B, and clips
// that are still being cut, shown once ready; the recorder, which
// practises against the demonstration player; the forms' video and clip
// choices, fetched when a form opens (choices.js); the reply forms,
// completed from one template (replies.js).
import { mountPlayer } from "./player.js";
import { mountStudio } from "./studio.js";
import "./attach.js";
import { mountRecorder } from "./recorder.js";
import { mountChoices } from "./choices.js";
import { mountReplyForms } from "./replies.js";

const reduceMotion = () => window.matchMedia("(prefers-reduced-motion: reduce)").matches;

// First: the studio and the choices look for the reply forms' fields.
mountReplyForms(document.getElementById("comments"));
mountChoices(document.querySelector("[data-choices-url]"));

const root = document.querySelector("[data-player]");
const player = root && mountPlayer(root);
mountRecorder(document.querySelector("[data-recorder]"), player);
if (player) {
  document.querySelectorAll("[data-js-only]").forEach((el) => { el.hidden = false; });
  player.fillMarks(document.querySelector("[data-range-input=a]"), document.querySelector("[data-range-input=b]"));
}

// Each attempt: the same player, and the studio on it.
const attempts = new Map();
document.querySelectorAll("[data-attempt-player]").forEach((box) => {
  const attempt = mountPlayer(box);
  if (!attempt) { return; }
  const entry = box.closest(".thread-entry");
  // The studio belongs to the entry's own attempt, not to a reply's clip.
  const own = entry && box.closest("article") === entry.querySelector("article");
  if (own && box.hasAttribute("data-video-id")) {
    mountStudio(attempt, entry);
    attempts.set(entry, attempt);
  }
});

document.querySelectorAll("[data-range-start]").forEach((chip) => {
  chip.addEventListener("click", () => {
    const start = parseFloat(chip.getAttribute("data-range-start"));
    const end = parseFloat(chip.getAttribute("data-range-end"));
    const on = chip.getAttribute("data-range-video");
    const target = on ? attempts.get(chip.closest(".thread-entry")) : player;
    if (!target) { return; }
    target.loop(start, end);
    target.video.scrollIntoView({ behavior: reduceMotion() ? "auto" : "smooth", block: "center" });
  });
});

// A clip still being cut: its notice turns into the clip once it is ready.
document.querySelectorAll("[data-clip-pending]").forEach((notice) => {
  const label = notice.querySelector("[data-clip-label]");
  pollUntilSettled(notice.getAttribute("data-status-url"), (text) => { if (label) { label.textContent = text; } }, (body) => {
    if (body.status !== "ready") { return; }
    const video = document.createElement("video");
    video.className = "video-player";
    video.controls = true;
    video.preload = "metadata";
    video.playsInline = true;
    video.src = notice.getAttribute("data-media-url");
    notice.replaceWith(video);
  });
});

/** Polls `url` (JSON with `settled`) with a growing delay until it settles. */
function pollUntilSettled(url, onLabel, onSettled) {
  let delay = 1000;
  const poll = async () => {
    try {
      const response = await fetch(url, { headers: { "Accept": "application/json" }, cache: "no-store" });
      if (response.ok) {
        const body = await response.json();
        if (body.label) { onLabel(body.label); }
        if (body.settled) { onSettled(body); return; }
      }
    } catch (ignored) { /* try again */ }
    delay = Math.min(delay * 1.5, 10000);
    setTimeout(poll, delay);
  };
  setTimeout(poll, delay);
}

// Someone typing in a form or watching a video is not interrupted by a reload.
function busy() {
  const typing = Array.from(document.querySelectorAll("form textarea, form input[type=text]")).some((f) => f.value.trim() !== "");
  const playing = Array.from(document.querySelectorAll("video, audio")).some((m) => !m.paused && !m.ended);
  return typing || playing;
}

// A voice-over being processed: once it is, the page shows its player.
document.querySelectorAll("[data-voiceover-pending]").forEach((notice) => {
  const label = notice.querySelector("[data-voiceover-label]");
  pollUntilSettled(notice.getAttribute("data-status-url"), (text) => { if (label) { label.textContent = text; } }, (body) => {
    if (body.status !== "ready") { return; }
    if (!busy()) { window.location.reload(); return; }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-secondary";
    button.textContent = "Reload to hear the voice-over";
    button.addEventListener("click", () => window.location.reload());
    notice.replaceChildren("The voice-over is ready. ", button);
  });
});

// An export being made: its download link replaces "Preparing your video…".
document.querySelectorAll("[data-export-pending]").forEach((notice) => {
  pollUntilSettled(notice.getAttribute("data-status-url"), () => {}, (body) => {
    if (body.status === "ready" && body.url) {
      const link = document.createElement("a");
      link.className = "btn btn-secondary";
      link.href = body.url;
      link.setAttribute("download", "");
      link.setAttribute("data-export-link", "");
      link.textContent = "Download the video (MP4" + (body.size ? ", " + body.size : "") + ")";
      notice.replaceWith(link);
    } else {
      notice.textContent = "The video could not be made.";
    }
  });
});
