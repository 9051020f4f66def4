// The practice player: one ES module any page mounts on a <video>.
//
//   import { mountPlayer } from "/static/js/player.js";
//   const player = mountPlayer(root);   // root: an element holding the <video>
//                                       // and the controls of partials/player_controls.html
//   player.loop(2, 4);                  // seek to 2 s and loop 2–4 s
//   player.onMarks((a, b) => ...);      // A or B set by the viewer
//   player.fillMarks(fromInput, toInput); // a form's range follows A and B
//   player.onLoop(() => promise);       // each time a loop jumps back to A;
//                                       // a returned promise holds it at A
//   player.setSpeed(0.75);              // the speed, as if chosen in the list
//
// Speed (0.1× to 2×), quality (the <source>s), frame steps by the video's
// own frame rate (data-frame-rate, from ffprobe), an A–B loop that stops at B
// within one frame (requestVideoFrameCallback), and keyboard shortcuts:
// space plays and pauses, "," and "." step a frame, "[" and "]" set A and B,
// "L" loops, "?" shows the list. Without this module the native controls
// still play the video.

const FALLBACK_RATE = 30;
const players = [];
let lastUsed = null;

function clock(seconds) {
  const s = Math.max(0, seconds || 0);
  const m = Math.floor(s / 60);
  const rest = s - m * 60;
  return m + ":" + (rest < 10 ? "0" : "") + rest.toFixed(2);
}

function typingInto(target) {
  if (!target || !target.closest) { return false; }
  if (target.isContentEditable) { return true; }
  const field = target.closest("input, textarea, select");
  if (!field) { return false; }
  // Buttons and checkboxes are not text: shortcuts still work there.
  return !(field.tagName === "INPUT" && /^(button|submit|reset|checkbox|radio|range)$/.test(field.type));
}

/** The player the keyboard speaks to: the one holding the focus, else the last used. */
function activePlayer(target) {
  const holding = players.find((p) => target && p.root.contains(target));
  return holding || lastUsed || players[0] || null;
}

function onKey(event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) { return; }
  if (typingInto(event.target)) { return; }
  const player = activePlayer(event.target);
  if (!player) { return; }
  const key = event.key;
  if (key === " ") {
    // Space on a button, a link or a summary activates it, as it should;
    // and with the player scrolled out of sight it scrolls the page.
    if (event.target.closest && event.target.closest("button, a, summary")) { return; }
    const box = player.video.getBoundingClientRect();
    if (!player.root.contains(event.target) && (box.bottom < 0 || box.top > window.innerHeight)) { return; }
  }
  const action = {
    " ": () => player.togglePlay(),
    ",": () => player.step(-1),
    ".": () => player.step(1),
    "[": () => player.markA(),
    "]": () => player.markB(),
    "l": () => player.toggleLoop(),
    "L": () => player.toggleLoop(),
    "?": () => player.showShortcuts(),
  }[key];
  if (!action) { return; }
  event.preventDefault();
  lastUsed = player;
  action();
}

export function mountPlayer(root) {
  const video = root.querySelector("video");
  const controls = root.querySelector("[data-controls]");
  if (!video || !controls) { return null; }
  controls.hidden = false;

  const parsedRate = parseFloat(video.getAttribute("data-frame-rate"));
  const frameRate = parsedRate > 0 ? parsedRate : FALLBACK_RATE;
  const frame = 1 / frameRate;
  const status = controls.querySelector("[data-loop-status]");
  const position = controls.querySelector("[data-position]");
  const loopButton = controls.querySelector("[data-loop]");
  const speed = controls.querySelector("[data-speed]");
  const quality = controls.querySelector("[data-quality]");
  // One list per page, shared by its players (player_controls.html).
  const shortcuts = root.querySelector("[data-shortcuts]") || document.querySelector("[data-shortcuts]");
  if (shortcuts) { shortcuts.hidden = false; }
  const markListeners = [];
  const loopListeners = [];
  let loopA = null;
  let loopB = null;
  let looping = false;

  function describe() {
    if (loopA === null && loopB === null) {
      status.textContent = "No loop set.";
    } else {
      status.textContent = "A " + (loopA === null ? "–" : clock(loopA)) + ", B " +
        (loopB === null ? "–" : clock(loopB)) + (looping ? " · looping" : "");
    }
    loopButton.setAttribute("aria-pressed", looping ? "true" : "false");
  }

  function showPosition() {
    if (!position) { return; }
    // The frame on screen, counted from 1, as an editor counts them.
    const index = Math.floor(video.currentTime * frameRate + 1e-6) + 1;
    position.textContent = clock(video.currentTime) + " · frame " + index;
  }

  function marksChanged() {
    markListeners.forEach((listener) => listener(loopA, loopB));
  }

  function applySpeed() {
    video.playbackRate = parseFloat(speed.value) || 1;
  }
  // A speed the list lacks (a ramp's 0.6×) is added to it, so that the
  // list always says the speed that plays.
  function setSpeed(rate) {
    const value = String(Math.round(rate * 100) / 100);
    if (!Array.from(speed.options).some((o) => o.value === value)) {
      const option = new Option(value + "×", value);
      const after = Array.from(speed.options).find((o) => parseFloat(o.value) > rate);
      speed.add(option, after || null);
    }
    speed.value = value;
    applySpeed();
  }
  speed.addEventListener("change", applySpeed);
  video.addEventListener("loadedmetadata", applySpeed);
  applySpeed();

  if (quality) {
    const sources = Array.from(video.querySelectorAll("source"));
    quality.addEventListener("change", () => {
      const chosen = sources[parseInt(quality.value, 10)];
      if (!chosen) { return; }
      const at = video.currentTime;
      const playing = !video.paused;
      video.addEventListener("loadedmetadata", function restore() {
        video.removeEventListener("loadedmetadata", restore);
        video.currentTime = at;
        applySpeed();
        if (playing) { video.play().catch(() => {}); }
      });
      video.src = chosen.src;
      video.load();
    });
  }

  // Frame steps land in the middle of the wanted frame: seeking to its
  // first instant can show the one before, by rounding.
  function step(frames) {
    video.pause();
    const current = Math.floor(video.currentTime * frameRate + 1e-6);
    const last = video.duration ? Math.floor(video.duration * frameRate) - 1 : Infinity;
    const target = Math.max(0, Math.min(last, current + frames));
    video.currentTime = (target + 0.5) / frameRate;
  }
  controls.querySelectorAll("[data-step]").forEach((button) => {
    button.addEventListener("click", () => step(parseInt(button.getAttribute("data-step"), 10)));
  });

  function setMark(which, at) {
    if (which === "a") { loopA = at; } else { loopB = at; }
    if (loopA !== null && loopB !== null && loopB < loopA) { [loopA, loopB] = [loopB, loopA]; }
    describe();
    marksChanged();
  }
  controls.querySelectorAll("[data-mark]").forEach((button) => {
    button.addEventListener("click", () => setMark(button.getAttribute("data-mark"), video.currentTime));
  });

  function startLoop() {
    if (loopA === null || loopB === null || loopB - loopA < 0.1) {
      status.textContent = "Set A and B (at least a tenth of a second apart) first.";
      return false;
    }
    looping = true;
    video.currentTime = loopA;
    video.play().catch(() => {});
    describe();
    return true;
  }
  function toggleLoop() {
    if (looping) { looping = false; describe(); } else { startLoop(); }
  }
  loopButton.addEventListener("click", toggleLoop);
  controls.querySelector("[data-clear-loop]").addEventListener("click", () => {
    loopA = loopB = null;
    looping = false;
    describe();
    marksChanged();
  });

  // Back to A at the end of a loop. A listener that returns a promise (a
  // count-in) holds the video paused at A until it settles.
  let holding = false;
  function wrap() {
    video.currentTime = loopA;
    const holds = loopListeners.map((listener) => listener()).filter((r) => r && typeof r.then === "function");
    if (!holds.length) { return; }
    holding = true;
    video.pause();
    Promise.all(holds).catch(() => {}).then(() => {
      holding = false;
      if (looping) { video.play().catch(() => {}); }
    });
  }

  // B is checked on every frame the browser shows, not on timeupdate (which
  // fires every quarter second and overshot B by several frames). The frame
  // at B is the last one shown; the seek back to A follows it.
  function atB(mediaTime) {
    return looping && !holding && loopB !== null && mediaTime >= loopB - frame / 2;
  }
  if ("requestVideoFrameCallback" in HTMLVideoElement.prototype) {
    const onFrame = (_now, metadata) => {
      if (atB(metadata.mediaTime)) { wrap(); }
      showPosition();
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  } else {
    video.addEventListener("timeupdate", () => {
      if (atB(video.currentTime)) { wrap(); }
    });
  }
  // A loop whose B is the very end: the video ends instead of reaching B.
  video.addEventListener("ended", () => {
    if (looping && loopA !== null && !holding) {
      wrap();
      if (!holding) { video.play().catch(() => {}); }
    }
  });
  video.addEventListener("seeked", showPosition);
  video.addEventListener("loadedmetadata", showPosition);

  function togglePlay() {
    if (video.paused || video.ended) { video.play().catch(() => {}); } else { video.pause(); }
  }

  function showShortcuts() {
    if (!shortcuts) { return; }
    shortcuts.open = true;
    const summary = shortcuts.querySelector("summary");
    if (summary) { summary.focus(); }
  }

  root.addEventListener("pointerdown", () => { lastUsed = player; });
  root.addEventListener("focusin", () => { lastUsed = player; });

  const player = {
    root,
    video,
    frameRate,
    togglePlay,
    step,
    showShortcuts,
    toggleLoop,
    markA: () => setMark("a", video.currentTime),
    markB: () => setMark("b", video.currentTime),
    /** Seeks to `start` and loops `start`–`end` (a range chip: not the viewer's own marks). */
    loop(start, end) {
      loopA = start;
      loopB = end;
      lastUsed = player;
      startLoop();
    },
    /** Called each time a loop goes back to A; may return a promise to hold it there. */
    onLoop(listener) { loopListeners.push(listener); },
    setSpeed,
    /** Stops looping (the video plays on from where it is). */
    stopLoop() { looping = false; holding = false; describe(); },
    /** Called with (A, B) whenever the viewer sets or clears them. */
    onMarks(listener) { markListeners.push(listener); },
    /** Keeps a form's two time fields (either may be missing) at A and B. */
    fillMarks(from, to) {
      markListeners.push((a, b) => {
        if (from) { from.value = a === null ? "" : a.toFixed(2); }
        if (to) { to.value = b === null ? "" : b.toFixed(2); }
      });
    },
    get marks() { return { a: loopA, b: loopB, looping }; },
  };
  players.push(player);
  if (players.length === 1) { document.addEventListener("keydown", onKey); }
  describe();
  showPosition();
  return player;
}
