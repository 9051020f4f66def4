// Voice-overs on an attempt's player (mounted by studio.js).
//
// Recording: "Record voice-over" records the microphone (MediaRecorder)
// while the coach plays, pauses, seeks, changes speed and draws; those
// actions are kept as a timeline ({t_ms, action, value}: milliseconds into
// the recording, then play/pause/seek at a second of the attempt, rate, or
// draw with the drawing's number in the reply). Stop uploads the sound
// through the resumable upload path (uploader.js, purpose "voiceover"); the
// reply form carries its id, the timeline as JSON and a transcript, and the
// server checks all three (comments::voice).
//
// Playback: "Play voice-over" plays the processed sound and replays the
// timeline on the attempt: the video follows the coach's pauses, seeks and
// speeds, kept in step with the sound, and each drawing appears when it was
// drawn. Pausing or seeking the sound pauses or moves the replay with it.

import { startUpload, supported as uploadsSupported } from "./uploader.js";

const MAX_MS = 600000; // the server's limit: 10 minutes
const MAX_EVENTS = 1900; // under the server's 2000, leaving room for drawings
const TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4", "audio/webm"];
const DRIFT = 0.3; // seconds the video may stray from the timeline before it is put back

function clock(seconds) {
  const s = Math.max(0, Math.round(seconds || 0));
  return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
}

function round3(v) { return Math.round(v * 1000) / 1000; }

/**
 * The record button on the attempt's tools, for the reply `form`.
 * `drawings()` gives the reply's drawings in their order. Returns
 * { drawn(drawing), refresh() } for the studio, or null where the browser
 * cannot record or upload.
 */
export function mountVoiceRecorder({ player, form, toolRow, before, say, csrf, drawings }) {
  const field = form && form.querySelector("[data-voiceover-field]");
  const timelineField = form && form.querySelector("[data-voiceover-timeline]");
  const extra = form && form.querySelector("[data-voiceover-extra]");
  const summary = form && form.querySelector("[data-voiceover-summary]");
  if (!field || !timelineField || !window.MediaRecorder || !navigator.mediaDevices ||
      !navigator.mediaDevices.getUserMedia || !uploadsSupported()) {
    return null;
  }
  const video = player.video;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-secondary";
  button.setAttribute("aria-pressed", "false");
  button.setAttribute("data-record-voiceover", "");
  button.textContent = "Record voice-over";
  toolRow.insertBefore(button, before || null);

  let recording = null; // { recorder, stream, chunks, startedAt, events, timer }
  let uploading = null;
  let events = []; // the kept recording's timeline (draw events hold their drawing)

  function now() { return recording && recording.startedAt !== null ? Math.max(0, Math.round(performance.now() - recording.startedAt)) : 0; }
  function log(action, value, ref) {
    if (!recording || recording.events.length >= MAX_EVENTS) { return; }
    const list = recording.events;
    const t = Math.max(now(), list.length ? list[list.length - 1].t_ms : 0);
    list.push({ t_ms: t, action, value, ref });
  }
  const onPlay = () => log("play", round3(video.currentTime));
  const onPause = () => log("pause", round3(video.currentTime));
  const onSeeked = () => log("seek", round3(video.currentTime));
  const onRate = () => log("rate", round3(Math.min(2, Math.max(0.1, video.playbackRate))));

  function serialise() {
    const list = drawings();
    return events
      .map((e) => (e.action === "draw" ? { t_ms: e.t_ms, action: "draw", value: list.indexOf(e.ref) } : { t_ms: e.t_ms, action: e.action, value: e.value }))
      .filter((e) => e.value >= 0);
  }
  function refresh() {
    if (field.value) { timelineField.value = JSON.stringify(serialise()); }
  }

  function tick() {
    if (!recording) { return; }
    const ms = now();
    say("Recording " + clock(ms / 1000) + " — play, pause, seek, change the speed and draw as you talk; press Stop recording when done.");
    if (ms >= MAX_MS) { stop(); }
  }

  async function start() {
    if (uploading) { say("Wait for the voice-over to finish uploading."); return; }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      const denied = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
      say(denied
        ? "Practika may not use the microphone. Allow it in the browser's site settings, then press Record again."
        : "No microphone could be opened. Connect one (or close the app using it), then press Record again.");
      return;
    }
    const type = TYPES.find((t) => window.MediaRecorder.isTypeSupported && window.MediaRecorder.isTypeSupported(t));
    const recorder = new window.MediaRecorder(stream, type ? { mimeType: type } : {});
    recording = { recorder, stream, chunks: [], startedAt: null, events: [] };
    recorder.addEventListener("dataavailable", (event) => { if (event.data && event.data.size) { recording.chunks.push(event.data); } });
    recorder.addEventListener("start", () => {
      recording.startedAt = performance.now();
      // Where the attempt is when the voice starts.
      log("seek", round3(video.currentTime));
      log("rate", round3(Math.min(2, Math.max(0.1, video.playbackRate))));
      if (!video.paused) { log("play", round3(video.currentTime)); }
    });
    recorder.addEventListener("stop", () => finish(recorder.mimeType || type || "audio/webm"));
    video.addEventListener("play", onPlay);
    video.addEventListener("pause", onPause);
    video.addEventListener("seeked", onSeeked);
    video.addEventListener("ratechange", onRate);
    recorder.start(1000);
    recording.timer = setInterval(tick, 500);
    button.textContent = "Stop recording";
    button.setAttribute("aria-pressed", "true");
    tick();
  }

  function stop() {
    if (!recording) { return; }
    clearInterval(recording.timer);
    video.removeEventListener("play", onPlay);
    video.removeEventListener("pause", onPause);
    video.removeEventListener("seeked", onSeeked);
    video.removeEventListener("ratechange", onRate);
    recording.duration = now();
    if (recording.recorder.state !== "inactive") { recording.recorder.stop(); }
    recording.stream.getTracks().forEach((track) => track.stop());
    button.textContent = "Record voice-over";
    button.setAttribute("aria-pressed", "false");
  }

  function finish(mime) {
    const done = recording;
    recording = null;
    const blob = new Blob(done.chunks, { type: mime.split(";")[0] });
    if (!blob.size) { say("Nothing was recorded. Check the microphone, then press Record again."); return; }
    const extension = mime.includes("ogg") ? "ogg" : mime.includes("mp4") ? "m4a" : "webm";
    const file = new File([blob], "voice-over." + extension, { type: blob.type });
    field.value = "";
    timelineField.value = "";
    const length = clock(done.duration / 1000);
    say("Uploading the voice-over (" + length + ")…");
    uploading = startUpload(file, {
      csrf,
      purpose: "voiceover",
      onProgress(sent, total) { say("Uploading the voice-over (" + length + ")… " + Math.floor(sent * 100 / Math.max(1, total)) + " %"); },
      onDone({ id }) {
        uploading = null;
        events = done.events;
        field.value = id;
        refresh();
        if (extra) { extra.hidden = false; }
        if (summary) { summary.textContent = "A voice-over of " + length + " is attached; it replays your pauses, seeks, speeds and drawings. Record again to replace it."; }
        const details = form.closest("details");
        if (details) { details.open = true; }
        say("The voice-over (" + length + ") is attached to your reply; post the reply to keep it.");
      },
      onError(messages) {
        uploading = null;
        say(messages.join(" "));
      },
    });
  }

  button.addEventListener("click", () => { if (recording) { stop(); } else { start(); } });
  form.addEventListener("submit", (event) => {
    if (recording || uploading) {
      event.preventDefault();
      say(recording ? "Stop the voice-over first, then post the reply." : "Wait for the voice-over to finish uploading, then post the reply.");
    } else {
      refresh();
    }
  });

  return {
    drawn(drawing) { log("draw", 0, drawing); },
    refresh,
  };
}

/**
 * "Play voice-over" on each reply of `entry` that has one. `reveal(comment,
 * shown)` tells the studio which of that reply's drawings have appeared
 * (a Set of their numbers; null: the replay is over).
 */
export function mountVoicePlayback({ player, entry, reveal }) {
  const video = player.video;
  const speed = player.root.querySelector("[data-speed]");
  let state = null;

  function setRate(rate) {
    video.playbackRate = rate;
  }

  /** Where the timeline puts the attempt at `ms` into the sound. */
  function modelAt(events, ms) {
    const m = { time: 0, at: 0, playing: false, rate: 1, shown: new Set(), next: 0 };
    for (const e of events) {
      if (e.t_ms > ms) { break; }
      m.next += 1;
      if (e.action === "draw") { m.shown.add(e.value); continue; }
      if (e.action === "rate") {
        if (m.playing) { m.time += (e.t_ms - m.at) / 1000 * m.rate; }
        m.at = e.t_ms;
        m.rate = e.value;
        continue;
      }
      m.time = e.value;
      m.at = e.t_ms;
      if (e.action === "play") { m.playing = true; }
      if (e.action === "pause") { m.playing = false; }
    }
    return m;
  }
  function expected(m, ms) {
    const t = m.time + (m.playing ? (ms - m.at) / 1000 * m.rate : 0);
    return isFinite(video.duration) ? Math.min(t, video.duration) : t;
  }

  /** Puts the attempt where the timeline says (after a seek in the sound, or a resume). */
  function resync() {
    if (!state) { return; }
    const ms = state.audio.currentTime * 1000;
    const m = modelAt(state.events, ms);
    state.model = m;
    state.next = m.next;
    state.shown.clear();
    m.shown.forEach((n) => state.shown.add(n));
    setRate(m.rate);
    video.currentTime = expected(m, ms);
    if (m.playing && !state.audio.paused) { video.play().catch(() => {}); } else { video.pause(); }
    reveal(state.comment, state.shown);
  }

  function apply(e) {
    const m = state.model;
    switch (e.action) {
      case "seek":
        video.currentTime = e.value;
        break;
      case "play":
        if (Math.abs(video.currentTime - e.value) > 0.05) { video.currentTime = e.value; }
        video.play().catch(() => {});
        break;
      case "pause":
        video.pause();
        video.currentTime = e.value;
        break;
      case "rate":
        setRate(e.value);
        break;
      case "draw":
        state.shown.add(e.value);
        reveal(state.comment, state.shown);
        break;
      default:
        break;
    }
    // The model follows the same events, for the drift check.
    if (e.action === "draw") { return; }
    if (e.action === "rate") {
      if (m.playing) { m.time += (e.t_ms - m.at) / 1000 * m.rate; }
      m.rate = e.value;
    } else {
      m.time = e.value;
      m.playing = e.action === "play" ? true : e.action === "pause" ? false : m.playing;
    }
    m.at = e.t_ms;
  }

  function tick() {
    if (!state || state.audio.paused) { return; }
    const ms = state.audio.currentTime * 1000;
    while (state.next < state.events.length && state.events[state.next].t_ms <= ms) {
      apply(state.events[state.next]);
      state.next += 1;
    }
    const m = state.model;
    if (m.playing && !video.ended && !video.seeking && Math.abs(expected(m, ms) - video.currentTime) > DRIFT) {
      video.currentTime = expected(m, ms);
    }
    window.requestAnimationFrame(tick);
  }

  function finish(message) {
    if (!state) { return; }
    const { button, status } = state;
    state = null;
    video.pause();
    if (speed) { setRate(parseFloat(speed.value) || 1); }
    reveal(null, null);
    button.textContent = "▶ Play voice-over";
    if (status && message) { status.textContent = message; }
  }

  entry.querySelectorAll("[data-voiceover]").forEach((box) => {
    const button = box.querySelector("[data-play-voiceover]");
    const audio = box.querySelector("[data-voiceover-audio]");
    const status = box.querySelector("[data-voiceover-status]");
    const article = box.closest("[data-comment-id]");
    if (!button || !audio || !article) { return; }
    let events = [];
    try { events = JSON.parse(box.getAttribute("data-timeline") || "[]"); } catch (ignored) { events = []; }
    button.hidden = false;
    button.addEventListener("click", () => {
      if (state && state.audio === audio) {
        if (audio.paused) { audio.play().catch(() => {}); } else { audio.pause(); }
        return;
      }
      finish(null);
      state = { audio, events, button, status, comment: article.getAttribute("data-comment-id"), shown: new Set(), next: 0, model: modelAt([], 0) };
      video.pause();
      reveal(state.comment, state.shown);
      audio.currentTime = 0;
      button.textContent = "❚❚ Pause voice-over";
      const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      video.scrollIntoView({ behavior: reduce ? "auto" : "smooth", block: "center" });
      audio.play().catch(() => {
        if (status) { status.textContent = "The browser did not start the sound: press play on it."; }
      });
    });
    audio.addEventListener("play", () => {
      if (!state || state.audio !== audio) { return; }
      button.textContent = "❚❚ Pause voice-over";
      if (status) { status.textContent = "Replaying the coach's voice-over on the attempt."; }
      resync();
      window.requestAnimationFrame(tick);
    });
    audio.addEventListener("pause", () => {
      if (!state || state.audio !== audio || audio.ended) { return; }
      video.pause();
      button.textContent = "▶ Resume voice-over";
    });
    audio.addEventListener("seeked", () => { if (state && state.audio === audio && !audio.paused) { resync(); } });
    audio.addEventListener("ended", () => { if (state && state.audio === audio) { finish("The voice-over ended."); } });
  });
}
