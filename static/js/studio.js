// The review studio on an attempt's player (player.js): "Clip this" (A–B
// becomes a clip attached to the reply), markers of the replies' pinned
// ranges and drawings on the timeline, full screen, and drawing
// (telestration) on a paused frame. Drawings are vector data in
// coordinates normalised to the frame (0..1) with the time they show; the
// reply form carries them as JSON, the server checks them against its
// schema (comments::studio), and they are replayed as an SVG overlay that
// scales with the video, full screen included. Labels are set with
// textContent: never markup.

import { mountVoicePlayback, mountVoiceRecorder } from "./voiceover.js";

const SVG = "http://www.w3.org/2000/svg";
const COLOURS = { red: "#e53935", yellow: "#fdd835", green: "#43a047", blue: "#1e88e5", white: "#ffffff" };
const TOOLS = [
  ["line", "Line"], ["arrow", "Arrow"], ["ellipse", "Circle"], ["freehand", "Freehand"],
  ["angle", "Angle"], ["text", "Text"],
];
const MAX_POINTS = 400;
const MAX_SHAPES = 40;
const MAX_DRAWINGS = 12;
const SHOW_FOR = 2; // seconds a drawing shows when no A–B range holds it

function clock(seconds) {
  const s = Math.max(0, seconds || 0);
  const m = Math.floor(s / 60);
  const rest = s - m * 60;
  return m + ":" + (rest < 10 ? "0" : "") + rest.toFixed(2);
}

function el(name, attrs, text) {
  const node = document.createElement(name);
  Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
  if (text) { node.textContent = text; }
  return node;
}

function svgEl(name, attrs) {
  const node = document.createElementNS(SVG, name);
  Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, String(v)));
  return node;
}

/** Degrees of the angle at `vertex` between the rays to `from` and `to`, on a frame of w × h. */
export function angleDegrees(from, vertex, to, w, h) {
  const ax = (from[0] - vertex[0]) * w, ay = (from[1] - vertex[1]) * h;
  const bx = (to[0] - vertex[0]) * w, by = (to[1] - vertex[1]) * h;
  const la = Math.hypot(ax, ay), lb = Math.hypot(bx, by);
  if (!la || !lb) { return 0; }
  const cos = Math.max(-1, Math.min(1, (ax * bx + ay * by) / (la * lb)));
  return Math.round(Math.acos(cos) * 180 / Math.PI);
}

/** Draws one shape into `group` on a frame of w × h (the SVG's viewBox). */
function drawShape(group, shape, w, h) {
  const colour = COLOURS[shape.colour] || COLOURS.red;
  const width = Math.max(2, w / 240);
  const stroke = { stroke: colour, "stroke-width": width, fill: "none", "stroke-linecap": "round", "stroke-linejoin": "round" };
  const X = (p) => p[0] * w, Y = (p) => p[1] * h;
  switch (shape.type) {
    case "line":
    case "arrow": {
      group.appendChild(svgEl("line", { ...stroke, x1: X(shape.from), y1: Y(shape.from), x2: X(shape.to), y2: Y(shape.to) }));
      if (shape.type === "arrow") {
        const angle = Math.atan2(Y(shape.to) - Y(shape.from), X(shape.to) - X(shape.from));
        const size = width * 5;
        const head = [angle - 0.45, angle + 0.45].map((a) =>
          (X(shape.to) - size * Math.cos(a)) + "," + (Y(shape.to) - size * Math.sin(a)));
        group.appendChild(svgEl("polyline", { ...stroke, points: head[0] + " " + X(shape.to) + "," + Y(shape.to) + " " + head[1] }));
      }
      break;
    }
    case "ellipse":
      group.appendChild(svgEl("ellipse", {
        ...stroke,
        cx: (X(shape.from) + X(shape.to)) / 2, cy: (Y(shape.from) + Y(shape.to)) / 2,
        rx: Math.abs(X(shape.to) - X(shape.from)) / 2, ry: Math.abs(Y(shape.to) - Y(shape.from)) / 2,
      }));
      break;
    case "freehand":
      group.appendChild(svgEl("polyline", { ...stroke, points: shape.points.map((p) => X(p) + "," + Y(p)).join(" ") }));
      break;
    case "angle": {
      group.appendChild(svgEl("polyline", {
        ...stroke,
        points: [shape.from, shape.vertex, shape.to].filter(Boolean).map((p) => X(p) + "," + Y(p)).join(" "),
      }));
      if (shape.to) {
        const label = svgEl("text", { x: X(shape.vertex) + width * 4, y: Y(shape.vertex) - width * 4, fill: colour });
        label.textContent = angleDegrees(shape.from, shape.vertex, shape.to, w, h) + "°";
        group.appendChild(label);
      }
      break;
    }
    case "text": {
      const label = svgEl("text", { x: X(shape.at), y: Y(shape.at), fill: colour });
      label.textContent = shape.text;
      group.appendChild(label);
      break;
    }
    default:
      break;
  }
}

function readDrawings(scope) {
  const found = [];
  scope.querySelectorAll("[data-drawings]").forEach((article) => {
    const comment = article.getAttribute("data-comment-id");
    try {
      JSON.parse(article.getAttribute("data-drawings")).forEach((d, index) => found.push({ ...d, comment, index }));
    } catch (ignored) { /* a page from another version: nothing to replay */ }
  });
  return found;
}

function readField(field) {
  if (!field || !field.value) { return []; }
  try {
    const drawings = JSON.parse(field.value);
    return Array.isArray(drawings) ? drawings : [];
  } catch (ignored) { return []; }
}

/**
 * Mounts the studio on an attempt's player. `entry` is the thread entry
 * holding the attempt, its replies and the reply form (or the edit page of
 * a reply: the attempt and the form), the form marked data-studio-form.
 */
export function mountStudio(player, entry) {
  const root = player.root;
  const video = player.video;
  const stage = root.querySelector("[data-stage]");
  const tools = root.querySelector("[data-studio]");
  const markers = root.querySelector("[data-markers]");
  const videoId = root.getAttribute("data-video-id");
  const form = entry && entry.querySelector("form[data-studio-form]");
  const field = form && form.querySelector("[data-drawings-field]");
  const summary = form && form.querySelector("[data-drawings-summary]");
  let frameW = 1600, frameH = 900;
  const saved = entry ? readDrawings(entry) : [];
  // Drawings made here, not yet posted; on a reply's edit page, the ones it
  // has (its field is disabled until they change, so saving keeps them).
  const pending = readField(field);
  let editing = null; // the shapes of the drawing being made
  let replaying = null; // a voice-over replay: { comment, shown } (its drawings that have appeared)
  let voice = null; // the voice-over recorder of the reply form

  // ---------------------------------------------------------------- overlay
  const overlay = svgEl("svg", { class: "drawing-overlay", viewBox: "0 0 1600 900", preserveAspectRatio: "xMidYMid meet", "aria-hidden": "true" });
  const layer = svgEl("g");
  const draft = svgEl("g");
  const cursor = svgEl("circle", { r: 8, fill: "none", stroke: "#fff", "stroke-width": 3, visibility: "hidden" });
  overlay.append(layer, draft, cursor);
  if (stage) { stage.appendChild(overlay); }

  function sizeFrame() {
    if (video.videoWidth && video.videoHeight) {
      frameW = video.videoWidth; frameH = video.videoHeight;
      overlay.setAttribute("viewBox", "0 0 " + frameW + " " + frameH);
      cursor.setAttribute("r", frameW / 150);
      render();
    }
  }
  video.addEventListener("loadedmetadata", sizeFrame);

  function visible(t) {
    const half = 0.5 / player.frameRate;
    // During a voice-over's replay, only its drawings, once they appeared.
    const shown = replaying
      ? saved.filter((d) => d.comment === replaying.comment && replaying.shown.has(d.index))
      : saved.concat(pending);
    return shown.filter((d) => t >= d.start - half && t <= d.end + half);
  }
  function render() {
    layer.replaceChildren();
    const shown = editing ? [] : visible(video.currentTime);
    shown.forEach((d) => d.shapes.forEach((s) => drawShape(layer, s, frameW, frameH)));
    draft.replaceChildren();
    if (editing) {
      editing.shapes.forEach((s) => drawShape(draft, s, frameW, frameH));
      if (editing.preview) { drawShape(draft, editing.preview, frameW, frameH); }
    }
  }
  if ("requestVideoFrameCallback" in HTMLVideoElement.prototype) {
    const onFrame = () => { render(); video.requestVideoFrameCallback(onFrame); };
    video.requestVideoFrameCallback(onFrame);
  }
  video.addEventListener("timeupdate", render);
  video.addEventListener("seeked", render);
  sizeFrame();

  // ---------------------------------------------------------------- markers
  function placeMarkers() {
    if (!markers) { return; }
    const duration = video.duration;
    if (!duration || !isFinite(duration)) { return; }
    markers.replaceChildren();
    const items = [];
    if (entry) {
      entry.querySelectorAll("[data-range-video]").forEach((chip) => {
        if (chip.getAttribute("data-range-video") !== videoId) { return; }
        items.push({ kind: "range", start: parseFloat(chip.getAttribute("data-range-start")), end: parseFloat(chip.getAttribute("data-range-end")) });
      });
    }
    saved.concat(pending).forEach((d) => items.push({ kind: "drawing", start: d.start, end: d.end }));
    items.forEach((item) => {
      const label = item.kind === "range"
        ? "Pinned " + clock(item.start) + "–" + clock(item.end) + ": play and loop"
        : "Drawing at " + clock(item.start) + ": show it";
      const button = el("button", { type: "button", class: "pin-marker", "aria-label": label, title: label },
        item.kind === "range" ? "▶" : "✎");
      button.style.left = Math.min(97, item.start / duration * 100) + "%";
      if (item.kind === "range") { button.style.width = Math.max(0, (item.end - item.start) / duration * 100) + "%"; }
      button.addEventListener("click", () => {
        if (item.kind === "range") { player.loop(item.start, item.end); } else { video.pause(); video.currentTime = item.start; }
      });
      markers.appendChild(button);
    });
    markers.hidden = items.length === 0;
  }
  video.addEventListener("loadedmetadata", placeMarkers);
  if (video.readyState >= 1) { placeMarkers(); }

  // ---------------------------------------------------------------- tools
  const status = tools && tools.querySelector("[data-studio-status]");
  const say = (text) => { if (status) { status.textContent = text; } };
  const toolRow = tools || (() => {
    const row = el("div", { class: "studio-tools" });
    root.appendChild(row);
    return row;
  })();
  toolRow.hidden = false;

  if (stage && stage.requestFullscreen) {
    const full = el("button", { type: "button", class: "btn btn-secondary" }, "Full screen");
    full.addEventListener("click", () => {
      if (document.fullscreenElement) { document.exitFullscreen(); } else { stage.requestFullscreen().catch(() => {}); }
    });
    toolRow.insertBefore(full, status || null);
  }

  function openReply() {
    const details = form && form.closest("details");
    if (details) { details.open = true; }
  }

  const clipButton = tools && tools.querySelector("[data-clip-this]");
  if (clipButton && form) {
    let busy = false;
    clipButton.addEventListener("click", async () => {
      const { a, b } = player.marks;
      if (a === null || b === null || b - a < 0.5) {
        say("Set A and B on the attempt first (at least half a second apart), then press Clip this.");
        return;
      }
      if (busy) { return; }
      busy = true;
      clipButton.disabled = true;
      say("Cutting " + clock(a) + "–" + clock(b) + "…");
      try {
        const response = await fetch("/videos/" + videoId + "/clips", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Accept": "application/json", "X-CSRF-Token": tools.getAttribute("data-csrf"), "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ start: a.toFixed(3), end: b.toFixed(3) }),
        });
        const body = await response.json().catch(() => ({}));
        if (!response.ok || !body.ok) {
          say((body.errors && body.errors.join(" ")) || "The clip could not be made. Please try again.");
          return;
        }
        attachClip(body);
        say(body.label + " is attached to your reply; it is cut in the background and shows in the reply once ready.");
      } catch (ignored) {
        say("The connection was lost. Please try again.");
      } finally {
        busy = false;
        clipButton.disabled = false;
      }
    });
  }

  function attachClip(clip) {
    let select = form.querySelector("select[name=clip_id]");
    if (!select) {
      const box = el("div", { class: "field" });
      const id = "reply-clip-" + (entry.id || videoId);
      box.appendChild(el("label", { for: id }, "Attach a clip"));
      select = el("select", { id, name: "clip_id" });
      select.appendChild(el("option", { value: "" }, "No clip"));
      box.appendChild(select);
      form.querySelector(".form-actions").before(box);
    }
    // A list whose choices are fetched as the reply opens (choices.js).
    const field = select.closest("[data-choices-field]");
    if (field) { field.hidden = false; }
    let option = Array.from(select.options).find((o) => o.value === clip.id);
    if (!option) {
      option = el("option", { value: clip.id }, clip.label + " (" + clip.status_label.toLowerCase() + ")");
      select.insertBefore(option, select.options[1] || null);
    }
    select.value = clip.id;
    openReply();
    const text = form.querySelector("textarea");
    if (text) { text.focus(); }
  }

  // Pinning: the viewer's A and B fill the reply's range of the attempt.
  if (form) {
    player.fillMarks(form.querySelector("[data-reply-range=a]"), form.querySelector("[data-reply-range=b]"));
  }

  if (entry) {
    mountVoicePlayback({
      player,
      entry,
      reveal(comment, shown) { replaying = comment ? { comment, shown } : null; render(); },
    });
  }

  if (!field || !stage) { return; }

  // ---------------------------------------------------------------- drawing
  const drawButton = el("button", { type: "button", class: "btn btn-secondary", "aria-expanded": "false" }, "Draw");
  toolRow.insertBefore(drawButton, status || null);
  voice = mountVoiceRecorder({
    player, form, toolRow, before: status || null, say, csrf: (tools && tools.getAttribute("data-csrf")) || form.querySelector("input[name=csrf_token]").value, drawings: () => pending,
  });
  const bar = el("div", { class: "draw-toolbar", role: "group", "aria-label": "Drawing tools" });
  bar.hidden = true;
  toolRow.after(bar);
  let tool = "line";
  let colour = "red";
  const toolButtons = TOOLS.map(([name, label]) => {
    const button = el("button", { type: "button", class: "btn btn-secondary", "aria-pressed": String(name === tool), "data-tool": name }, label);
    button.addEventListener("click", () => { tool = name; editing.points = []; editing.preview = null; pressTools(); render(); overlay.focus(); });
    bar.appendChild(button);
    return button;
  });
  const labelId = "draw-label-" + (videoId || Math.random().toString(36).slice(2));
  const labelBox = el("span", { class: "field-inline" });
  labelBox.append(el("label", { for: labelId, class: "visually-hidden" }, "Label text"),
    el("input", { id: labelId, type: "text", maxlength: "80", placeholder: "Label text", autocomplete: "off" }));
  bar.appendChild(labelBox);
  const labelInput = labelBox.querySelector("input");
  const colourButtons = Object.keys(COLOURS).map((name) => {
    const button = el("button", { type: "button", class: "swatch swatch-" + name, "aria-pressed": String(name === colour), "aria-label": name[0].toUpperCase() + name.slice(1), title: name });
    button.addEventListener("click", () => { colour = name; pressTools(); });
    bar.appendChild(button);
    return button;
  });
  const undo = el("button", { type: "button", class: "btn btn-secondary" }, "Undo");
  const clear = el("button", { type: "button", class: "btn btn-secondary" }, "Clear");
  const done = el("button", { type: "button", class: "btn btn-primary" }, "Add to reply");
  const cancel = el("button", { type: "button", class: "btn-link" }, "Cancel");
  const help = el("p", { class: "small muted draw-help" });
  bar.append(undo, clear, done, cancel, help);

  function pressTools() {
    toolButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.getAttribute("data-tool") === tool)));
    colourButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.classList.contains("swatch-" + colour))));
    const hints = {
      line: "Drag from one end to the other.", arrow: "Drag from the tail to the tip.", ellipse: "Drag across the box of the circle.",
      freehand: "Drag to draw.", angle: "Click the first end, the corner, then the second end.", text: "Type the label, then click where it goes.",
    };
    help.textContent = hints[tool] + " With the keyboard: arrows move the cross, Enter places a point, Escape ends a freehand stroke.";
  }

  function describePending() {
    field.disabled = false;
    field.value = pending.length ? JSON.stringify(pending) : "";
    summary.hidden = pending.length === 0;
    summary.textContent = pending.length
      ? (pending.length === 1 ? "1 drawing" : pending.length + " drawings") + " attached, at " + pending.map((d) => clock(d.start)).join(", ") + "."
      : "";
    if (pending.length) {
      const remove = el("button", { type: "button", class: "btn-link" }, "Remove the last");
      remove.addEventListener("click", () => { pending.pop(); describePending(); placeMarkers(); render(); });
      summary.append(" ", remove);
    }
    if (voice) { voice.refresh(); }
  }

  function startEditing() {
    if (pending.length >= MAX_DRAWINGS) { say("A reply holds at most " + MAX_DRAWINGS + " drawings."); return; }
    video.pause();
    editing = { shapes: [], points: [], preview: null, at: video.currentTime, cursor: [0.5, 0.5] };
    overlay.classList.add("editing");
    overlay.setAttribute("tabindex", "0");
    overlay.setAttribute("role", "application");
    overlay.setAttribute("aria-label", "Drawing surface on the frame at " + clock(editing.at));
    overlay.removeAttribute("aria-hidden");
    bar.hidden = false;
    drawButton.setAttribute("aria-expanded", "true");
    pressTools();
    say("Drawing on the frame at " + clock(editing.at) + ".");
    render();
    toolButtons[0].focus();
  }
  function stopEditing() {
    editing = null;
    overlay.classList.remove("editing");
    overlay.removeAttribute("tabindex");
    overlay.removeAttribute("role");
    overlay.removeAttribute("aria-label");
    overlay.setAttribute("aria-hidden", "true");
    cursor.setAttribute("visibility", "hidden");
    bar.hidden = true;
    drawButton.setAttribute("aria-expanded", "false");
    render();
    drawButton.focus();
  }
  drawButton.addEventListener("click", () => { if (editing) { stopEditing(); } else { startEditing(); } });
  cancel.addEventListener("click", stopEditing);
  undo.addEventListener("click", () => { if (editing) { editing.shapes.pop(); render(); } });
  clear.addEventListener("click", () => { if (editing) { editing.shapes = []; editing.points = []; editing.preview = null; render(); } });
  done.addEventListener("click", () => {
    if (!editing.shapes.length) { say("Draw something first, or press Cancel."); return; }
    const t = editing.at;
    const { a, b } = player.marks;
    const within = a !== null && b !== null && t >= a - 0.01 && t <= b + 0.01;
    const end = Math.min(video.duration || t + SHOW_FOR, t + SHOW_FOR);
    const drawing = {
      start: round3(within ? a : t),
      end: round3(within ? b : Math.max(t, end)),
      shapes: editing.shapes,
    };
    pending.push(drawing);
    pending.sort((x, y) => x.start - y.start);
    if (voice) { voice.drawn(drawing); }
    describePending();
    placeMarkers();
    stopEditing();
    openReply();
    say("The drawing shows " + clock(drawing.start) + "–" + clock(drawing.end) + "; post the reply to keep it.");
  });

  function round3(v) { return Math.round(v * 1000) / 1000; }
  function round4(v) { return Math.round(Math.max(0, Math.min(1, v)) * 10000) / 10000; }

  /** The pointer's place on the frame, 0..1 each way. */
  function toFrame(event) {
    const matrix = overlay.getScreenCTM();
    if (!matrix) { return [0.5, 0.5]; }
    const p = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    return [round4(p.x / frameW), round4(p.y / frameH)];
  }

  function shapeFor(points) {
    if (tool === "freehand") { return { type: "freehand", colour, points: points.slice() }; }
    if (tool === "angle") { return { type: "angle", colour, from: points[0], vertex: points[1] || points[0], to: points[2] }; }
    return { type: tool, colour, from: points[0], to: points[1] || points[0] };
  }
  function commit(shape) {
    if (editing.shapes.length >= MAX_SHAPES) { say("A drawing has at most " + MAX_SHAPES + " shapes."); return; }
    if (shape.type === "angle" && !shape.to) { return; }
    editing.shapes.push(shape);
    editing.points = [];
    editing.preview = null;
    render();
  }
  /** A point placed by a click or Enter; `final`: the pointer was released there. */
  function place(p) {
    if (tool === "text") {
      const text = labelInput.value.trim();
      if (!text) { say("Type the label's text first."); labelInput.focus(); return; }
      commit({ type: "text", colour, at: p, text: text.slice(0, 80) });
      return;
    }
    editing.points.push(p);
    const needed = tool === "angle" ? 3 : tool === "freehand" ? Infinity : 2;
    if (editing.points.length >= needed) { commit(shapeFor(editing.points)); } else { editing.preview = shapeFor(editing.points.concat([p])); render(); }
  }

  let dragging = false;
  overlay.addEventListener("pointerdown", (event) => {
    if (!editing) { return; }
    event.preventDefault();
    overlay.setPointerCapture(event.pointerId);
    const p = toFrame(event);
    if (tool === "angle" || tool === "text") { place(p); return; }
    dragging = true;
    editing.points = [p];
  });
  overlay.addEventListener("pointermove", (event) => {
    if (!editing) { return; }
    const p = toFrame(event);
    if (tool === "angle" && editing.points.length) { editing.preview = shapeFor(editing.points.concat([p])); render(); return; }
    if (!dragging) { return; }
    if (tool === "freehand") {
      const last = editing.points[editing.points.length - 1];
      if (Math.hypot(p[0] - last[0], p[1] - last[1]) > 0.004 && editing.points.length < MAX_POINTS) { editing.points.push(p); }
      editing.preview = shapeFor(editing.points);
    } else {
      editing.preview = shapeFor([editing.points[0], p]);
    }
    render();
  });
  overlay.addEventListener("pointerup", (event) => {
    if (!editing || !dragging) { return; }
    dragging = false;
    const p = toFrame(event);
    if (tool === "freehand") {
      if (editing.points.length < 2) { editing.points.push(p); }
      commit(shapeFor(editing.points));
    } else if (Math.hypot(p[0] - editing.points[0][0], p[1] - editing.points[0][1]) > 0.005) {
      commit(shapeFor([editing.points[0], p]));
    } else {
      editing.points = []; editing.preview = null; render();
    }
  });

  // The keyboard draws too: a cross moved by the arrows, Enter places.
  function showCursor() {
    cursor.setAttribute("cx", editing.cursor[0] * frameW);
    cursor.setAttribute("cy", editing.cursor[1] * frameH);
    cursor.setAttribute("visibility", "visible");
  }
  overlay.addEventListener("focus", () => { if (editing) { showCursor(); } });
  overlay.addEventListener("blur", () => cursor.setAttribute("visibility", "hidden"));
  overlay.addEventListener("keydown", (event) => {
    if (!editing) { return; }
    const stepBy = event.shiftKey ? 0.05 : 0.01;
    const moves = { ArrowLeft: [-stepBy, 0], ArrowRight: [stepBy, 0], ArrowUp: [0, -stepBy], ArrowDown: [0, stepBy] };
    if (moves[event.key]) {
      event.preventDefault();
      editing.cursor = [round4(editing.cursor[0] + moves[event.key][0]), round4(editing.cursor[1] + moves[event.key][1])];
      showCursor();
      if (editing.points.length) {
        editing.preview = shapeFor(tool === "freehand" ? editing.points.concat([editing.cursor]) : editing.points.concat([editing.cursor]));
        render();
      }
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      event.stopPropagation();
      place(editing.cursor.slice());
    } else if (event.key === "Escape") {
      event.preventDefault();
      if (tool === "freehand" && editing.points.length >= 2) { commit(shapeFor(editing.points)); } else { editing.points = []; editing.preview = null; render(); }
    }
  });

  // A reply's "Show on the attempt": the frame of its first drawing.
  if (entry) {
    entry.querySelectorAll("[data-show-drawings]").forEach((button) => {
      button.hidden = false;
      button.addEventListener("click", () => {
        video.pause();
        video.currentTime = parseFloat(button.getAttribute("data-at")) || 0;
        const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
        video.scrollIntoView({ behavior: reduce ? "auto" : "smooth", block: "center" });
      });
    });
  }
}
