// The video page: the same practice player as the demonstration's; its A
// and B fill the "Cut a clip" form's start and end.
import { mountPlayer } from "./player.js";

const root = document.querySelector("[data-player]");
const player = root && mountPlayer(root);
if (player) {
  player.fillMarks(document.querySelector(".clip-form [name=start]"), document.querySelector(".clip-form [name=end]"));
}
