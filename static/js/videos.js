/* Practika videos: upload progress and processing status.
 * Enhances pages that work without it: the upload form posts normally and
 * the status box has a reload link. No inline script or style (CSP).
 * An ES module; uploads go through uploader.js (tus, resumable). */
import { supported, startUpload, formatBytes, rateMeter } from './uploader.js';

(function () {
  'use strict';

  function $(id) { return document.getElementById(id); }

  function formatDuration(seconds) {
    if (!isFinite(seconds) || seconds < 0) { return ''; }
    seconds = Math.round(seconds);
    if (seconds < 60) { return seconds + ' s'; }
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) { return minutes + ' min ' + (seconds % 60) + ' s'; }
    return Math.floor(minutes / 60) + ' h ' + (minutes % 60) + ' min';
  }

  /* ---------- Upload with progress (resumable, through tus) ---------- */
  function setupUpload(form) {
    if (!supported()) { return; }
    var input = $('file');
    var progress = $('upload-progress');
    var bar = $('upload-bar');
    var percent = $('upload-percent');
    var detail = $('upload-detail');
    var message = $('upload-message');
    var submit = $('upload-submit');
    var cancel = $('upload-cancel');
    var announce = $('upload-announce');
    var announced = -1;
    var maxBytes = Number(form.getAttribute('data-max-bytes')) || 0;
    var maxMb = form.getAttribute('data-max-mb') || '';
    var csrf = form.getAttribute('data-csrf') || '';
    var running = null;

    function showMessage(lines) {
      message.textContent = '';
      lines.forEach(function (line) {
        var p = document.createElement('p');
        p.textContent = line;
        message.appendChild(p);
      });
      message.hidden = lines.length === 0;
    }

    function finish() {
      running = null;
      submit.disabled = false;
      input.disabled = false;
      cancel.hidden = true;
    }

    cancel.addEventListener('click', function () {
      if (!running) { return; }
      running.cancel();
      progress.hidden = true;
      showMessage(['Upload cancelled. Nothing was kept.']);
      finish();
      input.focus();
    });

    form.addEventListener('submit', function (event) {
      var file = input.files && input.files[0];
      if (!file) { return; } /* the browser's own "required" message */
      event.preventDefault();
      if (running) { return; }
      if (maxBytes && file.size > maxBytes) {
        showMessage(['This file is ' + formatBytes(file.size) + ', larger than the upload limit of ' + maxMb + ' MiB. Nothing was uploaded.']);
        input.setAttribute('aria-invalid', 'true');
        input.focus();
        return;
      }
      input.removeAttribute('aria-invalid');
      showMessage([]);
      var meter = rateMeter();
      var resumedAt = '';
      bar.value = 0;
      announced = -1;
      percent.textContent = '0%';
      detail.textContent = 'Starting…';
      progress.hidden = false;
      cancel.hidden = false;
      submit.disabled = true;
      input.disabled = true;
      cancel.focus();
      running = startUpload(file, {
        csrf: csrf,
        onResume: function (pct) {
          resumedAt = 'Resuming at ' + pct + ' % · ';
          detail.textContent = 'Resuming at ' + pct + ' %';
          if (announce) { announce.textContent = 'Resuming the earlier upload at ' + pct + ' percent.'; }
        },
        onProgress: function (loaded, total) {
          var pct = total ? Math.min(100, Math.floor(loaded * 100 / total)) : 0;
          bar.value = pct;
          bar.textContent = pct + '%';
          percent.textContent = pct + '%';
          /* Screen readers hear every tenth, not every event. */
          if (announce && Math.floor(pct / 10) !== announced) {
            announced = Math.floor(pct / 10);
            announce.textContent = 'Uploaded ' + pct + '%';
          }
          meter.sample(loaded);
          var speed = meter.perSecond();
          var text = resumedAt + formatBytes(loaded) + ' of ' + formatBytes(total);
          if (speed > 0) {
            text += ' · ' + formatBytes(speed) + '/s · ' + formatDuration((total - loaded) / speed) + ' left';
          }
          detail.textContent = loaded >= total ? 'Checking the video…' : text;
        },
        onDone: function (result) {
          detail.textContent = 'Done. Opening the video…';
          window.location.assign(result.location);
        },
        onError: function (messages) {
          progress.hidden = true;
          showMessage(messages.concat(['Nothing was kept.']));
          finish();
        }
      });
    });
  }

  /* ---------- Processing status ---------- */
  function setupStatus(box) {
    var url = box.getAttribute('data-status-url');
    var label = $('video-status-label');
    var delay = 2000;
    Array.prototype.forEach.call(box.querySelectorAll('.js-only'), function (el) { el.hidden = false; });

    /* Someone watching the original, or writing in a form (a reply to go
       with the clip), is not interrupted by a reload that would lose it. */
    function busy() {
      var player = document.querySelector('video');
      if (player && !player.paused && !player.ended) { return true; }
      var active = document.activeElement;
      if (active && active.form) { return true; }
      return Array.prototype.some.call(document.querySelectorAll('form textarea, form input[type=text]'), function (field) {
        return field.value !== field.defaultValue;
      });
    }

    function settled() {
      if (busy()) {
        var p = document.createElement('p');
        var button = document.createElement('button');
        button.type = 'button';
        button.className = 'btn btn-secondary';
        button.textContent = 'Reload to see the finished video';
        button.addEventListener('click', function () { window.location.reload(); });
        p.appendChild(button);
        box.appendChild(p);
        var bar = box.querySelector('progress');
        if (bar) { bar.hidden = true; }
        return;
      }
      window.location.reload();
    }

    function poll() {
      fetch(url, { credentials: 'same-origin', headers: { 'Accept': 'application/json' }, cache: 'no-store' })
        .then(function (response) {
          if (!response.ok) { throw new Error('status ' + response.status); }
          return response.json();
        })
        .then(function (status) {
          if (label && status.label) { label.textContent = status.label; }
          if (status.settled) { settled(); return; }
          delay = 2000;
          window.setTimeout(poll, delay);
        })
        .catch(function () {
          delay = Math.min(delay * 2, 30000);
          window.setTimeout(poll, delay);
        });
    }
    window.setTimeout(poll, delay);
  }

  var form = $('upload-form');
  if (form) { setupUpload(form); }
  var box = $('video-status');
  if (box && box.getAttribute('data-status-url') && window.fetch) { setupStatus(box); }
})();
