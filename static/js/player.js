// The demonstration player: speed, quality, frame steps, an A–B loop, and
// the range chips of the thread. Without this script the native controls
// still play the video.
(function () {
  "use strict";
  var video = document.querySelector("[data-demo]");
  var controls = document.querySelector("[data-controls]");
  if (!video || !controls) { return; }
  controls.hidden = false;
  document.querySelectorAll("[data-js-only]").forEach(function (el) { el.hidden = false; });

  var FRAME = 1 / 30;
  var loopA = null, loopB = null, looping = false;
  var status = controls.querySelector("[data-loop-status]");
  var loopButton = controls.querySelector("[data-loop]");

  function clock(s) {
    var m = Math.floor(s / 60), rest = s - m * 60;
    return m + ":" + (rest < 10 ? "0" : "") + rest.toFixed(2);
  }
  function describe(fillForm) {
    if (loopA === null && loopB === null) { status.textContent = "No loop set."; }
    else {
      status.textContent = "A " + (loopA === null ? "–" : clock(loopA)) + ", B " + (loopB === null ? "–" : clock(loopB)) +
        (looping ? " · looping" : "");
    }
    loopButton.setAttribute("aria-pressed", looping ? "true" : "false");
    // Your own A and B fill the comment form's range, so a comment can pin
    // what you looped (a chip from someone else's comment does not).
    if (!fillForm) { return; }
    var a = document.querySelector("[data-range-input=a]"), b = document.querySelector("[data-range-input=b]");
    if (a) { a.value = loopA === null ? "" : loopA.toFixed(2); }
    if (b) { b.value = loopB === null ? "" : loopB.toFixed(2); }
  }

  var speed = controls.querySelector("[data-speed]");
  function applySpeed() { video.playbackRate = parseFloat(speed.value) || 1; }
  speed.addEventListener("change", applySpeed);
  video.addEventListener("loadedmetadata", applySpeed);
  applySpeed();

  var quality = controls.querySelector("[data-quality]");
  if (quality) {
    var sources = Array.prototype.slice.call(video.querySelectorAll("source"));
    quality.addEventListener("change", function () {
      var chosen = sources[parseInt(quality.value, 10)];
      if (!chosen) { return; }
      var at = video.currentTime, playing = !video.paused;
      video.src = chosen.src;
      video.addEventListener("loadedmetadata", function restore() {
        video.removeEventListener("loadedmetadata", restore);
        video.currentTime = at;
        applySpeed();
        if (playing) { video.play(); }
      });
      video.load();
    });
  }

  controls.querySelectorAll("[data-step]").forEach(function (button) {
    button.addEventListener("click", function () {
      video.pause();
      var next = video.currentTime + parseInt(button.getAttribute("data-step"), 10) * FRAME;
      video.currentTime = Math.max(0, Math.min(video.duration || next, next));
    });
  });

  controls.querySelectorAll("[data-mark]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (button.getAttribute("data-mark") === "a") { loopA = video.currentTime; }
      else { loopB = video.currentTime; }
      if (loopA !== null && loopB !== null && loopB < loopA) { var t = loopA; loopA = loopB; loopB = t; }
      describe(true);
    });
  });
  loopButton.addEventListener("click", function () {
    if (loopA === null || loopB === null || loopB - loopA < 0.1) {
      status.textContent = "Set A and B (at least a tenth of a second apart) first.";
      return;
    }
    looping = !looping;
    if (looping) { video.currentTime = loopA; video.play(); }
    describe(false);
  });
  controls.querySelector("[data-clear-loop]").addEventListener("click", function () {
    loopA = loopB = null; looping = false; describe(true);
  });
  video.addEventListener("timeupdate", function () {
    if (looping && loopB !== null && video.currentTime >= loopB) { video.currentTime = loopA; }
  });

  // Range chips in the thread: seek the demonstration there and loop it.
  document.querySelectorAll("[data-range-start]").forEach(function (chip) {
    chip.addEventListener("click", function () {
      loopA = parseFloat(chip.getAttribute("data-range-start"));
      loopB = parseFloat(chip.getAttribute("data-range-end"));
      looping = true;
      describe(false);
      video.currentTime = loopA;
      video.play();
      video.scrollIntoView({ behavior: "smooth", block: "center" });
    });
  });
})();
