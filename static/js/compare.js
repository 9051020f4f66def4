// Side-by-side comparison. Each video has the practice player of
// player.js (speed, frame steps, A–B loop, keyboard); above them one
// play/pause, seek and frame step drive both, with the attempt shifted by an
// adjustable offset (seconds it runs ahead). "Sync these frames" takes the
// offset from the two frames on screen; either video can be mirrored, and
// the attempt laid over the demonstration with an opacity slider. A reply
// keeps the offset, the mirroring and the overlay (hidden fields of its
// form), and its link reopens the comparison as it was.
import { mountPlayer } from "./player.js";

const root = document.querySelector("[data-compare]");
const demoPane = document.querySelector("[data-compare-pane=demo]");
const attemptPane = document.querySelector("[data-compare-pane=attempt]");
const controls = document.querySelector("[data-compare-controls]");
const demoPlayer = demoPane && mountPlayer(demoPane);
const attemptPlayer = attemptPane && mountPlayer(attemptPane);

if (root && controls && demoPlayer && attemptPlayer) {
  const demo = demoPlayer.video;
  const attempt = attemptPlayer.video;
  controls.hidden = false;
  const play = controls.querySelector("[data-compare-play]");
  const seek = controls.querySelector("[data-compare-seek]");
  const status = controls.querySelector("[data-compare-status]");
  const linkSpeed = controls.querySelector("[data-compare-link-speed]");
  const opacity = controls.querySelector("[data-compare-opacity]");
  const overlay = controls.querySelector("[data-compare-overlay]");
  const offsetInput = document.querySelector("[data-compare-offset]");
  // The offset belongs next to the players; it stays part of the reply form
  // through its form attribute.
  const slot = controls.querySelector("[data-offset-slot]");
  const field = document.querySelector("[data-offset-field]");
  if (slot && field) { slot.insertBefore(field, slot.firstChild); }

  const offset = () => parseFloat(offsetInput.value) || 0;
  const clamp = (v, video) => Math.max(0, Math.min(v, video.duration || v));
  const align = () => { attempt.currentTime = clamp(demo.currentTime + offset(), attempt); };
  const describe = () => {
    status.textContent = "Demonstration " + demo.currentTime.toFixed(2) + " s · attempt " +
      attempt.currentTime.toFixed(2) + " s · offset " + offset().toFixed(2) + " s";
  };
  const setOffset = (value) => {
    offsetInput.value = (Math.round(value * 1000) / 1000).toFixed(3).replace(/\.?0+$/, "") || "0";
  };

  controls.querySelectorAll("[data-offset-step]").forEach((button) => {
    button.addEventListener("click", () => {
      setOffset(offset() + parseFloat(button.getAttribute("data-offset-step")));
      align(); describe();
    });
  });
  // The two frames on screen show the same moment: the offset follows.
  controls.querySelector("[data-compare-sync]").addEventListener("click", () => {
    demo.pause(); attempt.pause();
    setOffset(attempt.currentTime - demo.currentTime);
    describe();
    status.textContent += " · synced";
  });
  controls.querySelectorAll("[data-compare-step]").forEach((button) => {
    button.addEventListener("click", () => {
      const frames = parseInt(button.getAttribute("data-compare-step"), 10);
      demoPlayer.step(frames);
      attemptPlayer.step(frames);
      play.textContent = "Play both";
    });
  });

  const speedOf = (pane) => pane.querySelector("[data-speed]");
  [[demoPane, attemptPane], [attemptPane, demoPane]].forEach(([from, to]) => {
    speedOf(from).addEventListener("change", () => {
      // The other's change event comes back here: stop once both agree.
      if (!linkSpeed.checked || speedOf(to).value === speedOf(from).value) { return; }
      speedOf(to).value = speedOf(from).value;
      speedOf(to).dispatchEvent(new Event("change"));
    });
  });

  const mirrorField = document.querySelector("[data-compare-mirror-field]");
  const overlayField = document.querySelector("[data-compare-overlay-field]");
  const keepMirror = () => {
    if (!mirrorField) { return; }
    const d = demo.classList.contains("mirrored"), a = attempt.classList.contains("mirrored");
    mirrorField.value = d && a ? "both" : d ? "demo" : a ? "attempt" : "";
  };
  const keepOverlay = () => {
    if (overlayField) { overlayField.value = root.classList.contains("compare-overlay") ? opacity.value : ""; }
  };
  controls.querySelectorAll("[data-mirror]").forEach((button) => {
    button.addEventListener("click", () => {
      const video = button.getAttribute("data-mirror") === "demo" ? demo : attempt;
      const on = video.classList.toggle("mirrored");
      button.setAttribute("aria-pressed", on ? "true" : "false");
      keepMirror();
    });
  });
  // Overlay: the attempt's <video> moves into the demonstration's stage, on
  // top of it (a media element moved within the page keeps playing).
  const attemptStage = attemptPane.querySelector("[data-stage]");
  const demoStage = demoPane.querySelector("[data-stage]");
  overlay.addEventListener("click", () => {
    const on = root.classList.toggle("compare-overlay");
    overlay.setAttribute("aria-pressed", on ? "true" : "false");
    opacity.disabled = !on;
    (on ? demoStage : attemptStage).appendChild(attempt);
    attempt.classList.toggle("overlaid", on);
    attempt.style.opacity = on ? opacity.value : "";
    keepOverlay();
  });
  opacity.addEventListener("input", () => { attempt.style.opacity = opacity.value; keepOverlay(); });
  // Reopened from a reply that kept an overlay: laid over again.
  if (root.hasAttribute("data-overlay")) { overlay.click(); }

  demo.addEventListener("loadedmetadata", () => { seek.max = demo.duration || 100; align(); describe(); });
  play.addEventListener("click", () => {
    if (demo.paused) {
      align();
      Promise.all([demo.play(), attempt.play()]).catch(() => {});
      play.textContent = "Pause both";
    } else {
      demo.pause(); attempt.pause(); play.textContent = "Play both";
    }
  });
  seek.addEventListener("input", () => { demo.currentTime = parseFloat(seek.value); align(); describe(); });
  offsetInput.addEventListener("input", () => { align(); describe(); });
  demo.addEventListener("timeupdate", () => {
    seek.value = demo.currentTime;
    // Keep the two within a frame or two of each other.
    if (Math.abs(attempt.currentTime - (demo.currentTime + offset())) > 0.15 && !demo.paused) { align(); }
    describe();
  });
  attempt.addEventListener("seeked", describe);
  demo.addEventListener("ended", () => { attempt.pause(); play.textContent = "Play both"; });
}
