// The exercise page: the demonstration player, the range chips of the
// thread (each seeks the demonstration and loops its range), and the
// comment form's range, filled from the viewer's own A and B; the
// recorder, which practises against that player.
import { mountPlayer } from "./player.js";
import "./attach.js";
import { mountRecorder } from "./recorder.js";

const root = document.querySelector("[data-player]");
const player = root && mountPlayer(root);
mountRecorder(document.querySelector("[data-recorder]"), player);
if (player) {
  document.querySelectorAll("[data-js-only]").forEach((el) => { el.hidden = false; });
  const from = document.querySelector("[data-range-input=a]");
  const to = document.querySelector("[data-range-input=b]");
  player.onMarks((a, b) => {
    if (from) { from.value = a === null ? "" : a.toFixed(2); }
    if (to) { to.value = b === null ? "" : b.toFixed(2); }
  });
  document.querySelectorAll("[data-range-start]").forEach((chip) => {
    chip.addEventListener("click", () => {
      player.loop(parseFloat(chip.getAttribute("data-range-start")), parseFloat(chip.getAttribute("data-range-end")));
      const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      player.video.scrollIntoView({ behavior: reduce ? "auto" : "smooth", block: "center" });
    });
  });
}
