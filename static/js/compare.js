// Side-by-side comparison: one play/pause, seek and speed for both videos,
// with the attempt shifted by an adjustable offset (seconds it runs ahead).
(function () {
  "use strict";
  var root = document.querySelector("[data-compare]");
  var demo = document.querySelector("[data-compare-demo]");
  var attempt = document.querySelector("[data-compare-attempt]");
  var controls = document.querySelector("[data-compare-controls]");
  if (!root || !demo || !attempt || !controls) { return; }
  controls.hidden = false;
  var play = controls.querySelector("[data-compare-play]");
  var seek = controls.querySelector("[data-compare-seek]");
  var speed = controls.querySelector("[data-compare-speed]");
  var status = controls.querySelector("[data-compare-status]");
  var offsetInput = document.querySelector("[data-compare-offset]");
  // The offset belongs next to the players; it stays part of the reply form
  // through its form attribute.
  var slot = controls.querySelector("[data-offset-slot]");
  var field = document.querySelector("[data-offset-field]");
  if (slot && field) { slot.insertBefore(field, slot.firstChild); }
  controls.querySelectorAll("[data-offset-step]").forEach(function (button) {
    button.addEventListener("click", function () {
      var next = (parseFloat(offsetInput.value) || 0) + parseFloat(button.getAttribute("data-offset-step"));
      offsetInput.value = next.toFixed(2);
      align(); describe();
    });
  });
  function offset() { return parseFloat(offsetInput.value) || 0; }
  function clamp(v, video) { return Math.max(0, Math.min(v, video.duration || v)); }
  function align() { attempt.currentTime = clamp(demo.currentTime + offset(), attempt); }
  function describe() {
    status.textContent = "Demonstration " + demo.currentTime.toFixed(2) + " s · attempt " + attempt.currentTime.toFixed(2) +
      " s · offset " + offset().toFixed(2) + " s";
  }
  demo.addEventListener("loadedmetadata", function () { seek.max = demo.duration || 100; align(); describe(); });
  play.addEventListener("click", function () {
    if (demo.paused) {
      align();
      Promise.all([demo.play(), attempt.play()]).catch(function () {});
      play.textContent = "Pause both";
    } else {
      demo.pause(); attempt.pause(); play.textContent = "Play both";
    }
  });
  seek.addEventListener("input", function () { demo.currentTime = parseFloat(seek.value); align(); describe(); });
  speed.addEventListener("change", function () {
    demo.playbackRate = attempt.playbackRate = parseFloat(speed.value) || 1;
  });
  offsetInput.addEventListener("input", function () { align(); describe(); });
  demo.addEventListener("timeupdate", function () {
    seek.value = demo.currentTime;
    // Keep the two within a frame or two of each other.
    if (Math.abs(attempt.currentTime - (demo.currentTime + offset())) > 0.15 && !demo.paused) { align(); }
    describe();
  });
  demo.addEventListener("ended", function () { attempt.pause(); play.textContent = "Play both"; });
})();
