// Practice mode on the demonstration: the shared player (player.js) loops
// A–B; this module adds a speed ramp (from one speed to another, one step
// every N clean loops), a count-in before each loop, mirroring and a timer,
// and logs the session to the server as it goes.
//
// The session is logged as running totals (seconds, loops, top speed) under
// an id made here, every 15 s while practising, at each step of the ramp,
// on Stop and when the page is hidden or closed: the server keeps the
// largest of each, so a report sent twice counts once, and closing the tab
// loses at most the last seconds.
import { mountPlayer } from "./player.js";

const REPORT_EVERY_MS = 15000;
const BEAT_MS = 600;

const root = document.querySelector("[data-player]");
const panel = document.querySelector("[data-practice]");
const player = root && mountPlayer(root);

function uuid() {
  if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
}

function clock(ms) {
  const s = Math.floor(ms / 1000);
  const m = Math.floor(s / 60);
  return m + ":" + String(s % 60).padStart(2, "0");
}

const speedText = (s) => String(Math.round(s * 100) / 100) + "×";

if (player && panel) {
  panel.hidden = false;
  const $ = (selector) => panel.querySelector(selector);
  const from = $("[data-ramp-from]");
  const to = $("[data-ramp-to]");
  const step = $("[data-ramp-step]");
  const perStep = $("[data-ramp-loops]");
  const countIn = $("[data-count-in]");
  const mirror = $("[data-mirror-demo]");
  const start = $("[data-practice-start]");
  const stop = $("[data-practice-stop]");
  const miss = $("[data-practice-miss]");
  const beats = $("[data-count-in-display]");
  const timer = $("[data-practice-timer]");
  const speedOut = $("[data-practice-speed]");
  const cleanOut = $("[data-practice-clean]");
  const loopsOut = $("[data-practice-loops]");
  const status = $("[data-practice-status]");
  const video = player.video;

  const session = uuid();
  let running = false;
  let practisedMs = 0;
  let since = 0;
  let speed = 1;
  let topSpeed = 0;
  let loops = 0;
  let clean = 0;
  let dirty = false;
  let lastReport = 0;
  let counting = null;

  const elapsed = () => practisedMs + (running ? performance.now() - since : 0);
  const show = () => {
    timer.textContent = clock(elapsed());
    speedOut.textContent = running || loops ? speedText(speed) : "–";
    cleanOut.textContent = clean + " of " + (parseInt(perStep.value, 10) || 1);
    loopsOut.textContent = String(loops);
  };
  setInterval(() => { if (running) { show(); } }, 250);

  function report(leaving) {
    if (!loops && elapsed() < 1000 && !leaving) { return Promise.resolve(); }
    lastReport = performance.now();
    const body = new URLSearchParams({
      csrf_token: panel.getAttribute("data-csrf"),
      session,
      exercise: panel.getAttribute("data-exercise-id"),
      seconds: String(Math.min(14400, Math.floor(elapsed() / 1000))),
      max_speed: String(Math.round(Math.max(topSpeed, 0.1) * 100) / 100),
      loops: String(loops),
    });
    return fetch("/practice/sessions", {
      method: "POST",
      body,
      keepalive: true,
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
    }).then(async (response) => {
      if (response.ok) {
        status.textContent = "Saved: " + clock(elapsed()) + " practised.";
        panel.setAttribute("data-saved-loops", String(loops));
      } else {
        const answer = await response.json().catch(() => ({}));
        status.textContent = "Not saved: " + ((answer.errors || []).join(" ") || response.status);
      }
    }).catch(() => { status.textContent = "Not saved (offline?): it is sent again in a moment."; });
  }
  setInterval(() => {
    if (running && performance.now() - lastReport > REPORT_EVERY_MS) { report(false); }
  }, 1000);

  // The count-in: beats shown one by one, the video held at A meanwhile.
  function countInBeats() {
    const n = parseInt(countIn.value, 10) || 0;
    if (!n) { return null; }
    return new Promise((resolve) => {
      let left = n;
      beats.textContent = String(left);
      counting = setInterval(() => {
        left -= 1;
        if (left <= 0) {
          clearInterval(counting);
          counting = null;
          beats.textContent = "Go";
          resolve();
        } else {
          beats.textContent = String(left);
        }
      }, BEAT_MS);
    });
  }

  function rampStep() {
    const top = parseFloat(to.value) || 1;
    const next = Math.min(top, Math.round((speed + (parseFloat(step.value) || 0.25)) * 100) / 100);
    if (next <= speed) { return false; }
    speed = next;
    topSpeed = Math.max(topSpeed, speed);
    player.setSpeed(speed);
    status.textContent = "Speed up: " + speedText(speed) + ".";
    return true;
  }

  player.onLoop(() => {
    if (!running) { return null; }
    loops += 1;
    if (dirty) { clean = 0; } else { clean += 1; }
    dirty = false;
    const needed = Math.max(1, parseInt(perStep.value, 10) || 1);
    if (clean >= needed && rampStep()) { clean = 0; report(false); }
    show();
    return countInBeats();
  });

  start.addEventListener("click", async () => {
    const { a, b } = player.marks;
    if (a === null || b === null || b - a < 0.1) {
      status.textContent = "Set A and B on the player first (at least a tenth of a second apart).";
      return;
    }
    if (!loops) {
      speed = Math.min(parseFloat(from.value) || 0.5, parseFloat(to.value) || 1);
    }
    player.setSpeed(speed);
    topSpeed = Math.max(topSpeed, speed);
    running = true;
    since = performance.now();
    clean = 0;
    dirty = false;
    start.disabled = true;
    stop.disabled = false;
    miss.disabled = false;
    show();
    report(true);
    video.pause();
    video.currentTime = a;
    const hold = countInBeats();
    if (hold) { await hold; }
    if (running) { player.loop(a, b); }
  });

  function halt() {
    if (!running) { return; }
    practisedMs += performance.now() - since;
    running = false;
    if (counting) { clearInterval(counting); counting = null; }
    beats.textContent = "";
    player.stopLoop();
    video.pause();
    start.disabled = false;
    start.textContent = "Continue";
    stop.disabled = true;
    miss.disabled = true;
    show();
  }
  stop.addEventListener("click", () => { halt(); report(true); });
  miss.addEventListener("click", () => { dirty = true; status.textContent = "This loop does not count."; });
  document.addEventListener("keydown", (event) => {
    if ((event.key === "n" || event.key === "N") && running && !event.ctrlKey && !event.metaKey && !event.altKey &&
        !(event.target.closest && event.target.closest("input, textarea, select"))) {
      event.preventDefault();
      miss.click();
    }
  });
  mirror.addEventListener("change", () => { video.classList.toggle("mirrored", mirror.checked); });
  // Leaving the page (or hiding it): the totals so far are sent.
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden" && (running || loops)) { report(true); } });
  window.addEventListener("pagehide", () => { if (running || loops) { report(true); } });
  show();
}
