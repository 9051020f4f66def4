// The video page: the same practice player as the demonstration's.
import { mountPlayer } from "./player.js";

const root = document.querySelector("[data-player]");
if (root) { mountPlayer(root); }
