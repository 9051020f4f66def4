// A comment's edit page: the attach-a-video upload, and on a reply to an
// attempt, that attempt in the full player with the review studio, so the
// coach can draw again or record a new voice-over (studio.js, as in the
// thread).
import { mountPlayer } from "./player.js";
import { mountStudio } from "./studio.js";
import "./attach.js";

const entry = document.querySelector("[data-studio-entry]");
const box = entry && entry.querySelector("[data-attempt-player]");
const attempt = box && mountPlayer(box);
if (attempt) { mountStudio(attempt, entry); }
