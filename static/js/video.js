// The video page: the same practice player as the demonstration's; its A
// and B fill the "Cut a clip" form's start and end.
import { mountPlayer } from "./player.js";

const root = document.querySelector("[data-player]");
const player = root && mountPlayer(root);
if (player) {
  const start = document.querySelector(".clip-form [name=start]");
  const end = document.querySelector(".clip-form [name=end]");
  player.onMarks((a, b) => {
    if (start) { start.value = a === null ? "" : a.toFixed(2); }
    if (end) { end.value = b === null ? "" : b.toFixed(2); }
  });
}
