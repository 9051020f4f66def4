/* Practika videos: upload progress and processing status.
 * Enhances pages that work without it: the upload form posts normally and
 * the status box has a reload link. No inline script or style (CSP). */
(function () {
  'use strict';

  function $(id) { return document.getElementById(id); }

  function formatBytes(bytes) {
    var units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
    var value = bytes;
    var unit = 0;
    while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
    return (unit === 0 ? String(value) : value.toFixed(1)) + ' ' + units[unit];
  }

  function formatDuration(seconds) {
    if (!isFinite(seconds) || seconds < 0) { return ''; }
    seconds = Math.round(seconds);
    if (seconds < 60) { return seconds + ' s'; }
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) { return minutes + ' min ' + (seconds % 60) + ' s'; }
    return Math.floor(minutes / 60) + ' h ' + (minutes % 60) + ' min';
  }

  /* ---------- Upload with progress ---------- */
  function setupUpload(form) {
    if (!window.XMLHttpRequest || !window.FormData) { return; }
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
    var xhr = null;

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
      xhr = null;
      submit.disabled = false;
      input.disabled = false;
      cancel.hidden = true;
    }

    cancel.addEventListener('click', function () {
      if (xhr) { xhr.abort(); }
    });

    form.addEventListener('submit', function (event) {
      var file = input.files && input.files[0];
      if (!file) { return; } /* the browser's own "required" message */
      event.preventDefault();
      if (xhr) { return; }
      if (maxBytes && file.size > maxBytes) {
        showMessage(['This file is ' + formatBytes(file.size) + ', larger than the upload limit of ' + maxMb + ' MiB. Nothing was uploaded.']);
        input.setAttribute('aria-invalid', 'true');
        input.focus();
        return;
      }
      input.removeAttribute('aria-invalid');
      showMessage([]);

      var data = new FormData(form);
      var started = Date.now();
      var lastTime = started;
      var lastLoaded = 0;
      var speed = 0;
      xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.responseType = 'json';

      xhr.upload.addEventListener('progress', function (e) {
        if (!e.lengthComputable) { return; }
        var now = Date.now();
        var pct = Math.min(100, Math.floor(e.loaded * 100 / e.total));
        bar.value = pct;
        bar.textContent = pct + '%';
        percent.textContent = pct + '%';
        /* Screen readers hear every tenth, not every event. */
        if (announce && Math.floor(pct / 10) !== announced) {
          announced = Math.floor(pct / 10);
          announce.textContent = 'Uploaded ' + pct + '%';
        }
        if (now - lastTime >= 500) {
          var current = (e.loaded - lastLoaded) * 1000 / (now - lastTime);
          speed = speed ? speed * 0.7 + current * 0.3 : current;
          lastTime = now;
          lastLoaded = e.loaded;
        }
        var text = formatBytes(e.loaded) + ' of ' + formatBytes(e.total);
        if (speed > 0) {
          text += ' · ' + formatBytes(speed) + '/s · ' + formatDuration((e.total - e.loaded) / speed) + ' left';
        }
        detail.textContent = text;
      });
      xhr.upload.addEventListener('load', function () {
        percent.textContent = '100%';
        detail.textContent = 'Checking the video…';
        if (announce) { announce.textContent = 'Upload complete. Checking the video.'; }
      });

      xhr.addEventListener('load', function () {
        var body = xhr.response || {};
        if (xhr.status >= 200 && xhr.status < 300 && body.ok && body.location) {
          detail.textContent = 'Done. Opening the video…';
          window.location.assign(body.location);
          return;
        }
        progress.hidden = true;
        var errors = body.errors && body.errors.length ? body.errors
          : ['The upload failed (error ' + xhr.status + '). Nothing was kept; please try again.'];
        showMessage(errors.concat(['Nothing was kept.']));
        finish();
      });
      xhr.addEventListener('error', function () {
        progress.hidden = true;
        showMessage(['The connection was lost during the upload, or the server refused the file. Nothing was kept; please try again.']);
        finish();
      });
      xhr.addEventListener('abort', function () {
        progress.hidden = true;
        showMessage(['Upload cancelled. Nothing was kept.']);
        finish();
        input.focus();
      });

      bar.value = 0;
      announced = -1;
      percent.textContent = '0%';
      detail.textContent = 'Starting…';
      progress.hidden = false;
      cancel.hidden = false;
      submit.disabled = true;
      xhr.send(data);
      /* After send: a disabled input would leave the file out of the form. */
      input.disabled = true;
      cancel.focus();
    });
  }

  /* ---------- Processing status ---------- */
  function setupStatus(box) {
    var url = box.getAttribute('data-status-url');
    var label = $('video-status-label');
    var delay = 2000;
    Array.prototype.forEach.call(box.querySelectorAll('.js-only'), function (el) { el.hidden = false; });

    function settled() {
      var player = document.querySelector('video');
      if (player && !player.paused && !player.ended) {
        /* Do not interrupt someone watching the original. */
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
