// The one way Practika's pages send a video: the tus protocol (resumable
// uploads) through the vendored tus-js-client (static/vendor/, loaded as a
// classic script before this module). A cut connection is retried from the
// last byte the server kept; the same file chosen again after a reload
// resumes where it stopped ("resuming at 63 %"). Without tus-js-client the
// pages keep their plain forms.

const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000];

export function supported() {
  return Boolean(window.tus && window.tus.isSupported);
}

function messagesOf(error) {
  const response = error && error.originalResponse;
  if (response) {
    try {
      const body = JSON.parse(response.getBody() || "{}");
      if (body.errors && body.errors.length) { return body.errors; }
    } catch (ignored) { /* not JSON: the generic message below */ }
    const status = response.getStatus();
    if (status === 403) { return ["Your session has ended or the page is stale. Reload the page, then try again."]; }
    return ["The upload failed (error " + status + "). Please try again."];
  }
  return ["The connection to Practika was lost and did not come back. Choose the file again to resume where it stopped."];
}

/**
 * Uploads `file`. Callbacks: onProgress(sent, total), onResume(percent)
 * when it continues an earlier upload of the same file, onDone({ id,
 * location }) once the server has made it a video (or, with `purpose:
 * "voiceover"`, a voice-over: then `location` is null), onError(messages).
 * Returns { cancel() }: stops and removes what was sent.
 */
export function startUpload(file, { csrf, purpose, onProgress, onResume, onDone, onError }) {
  let videoId = null;
  let finished = false;
  const voiceover = purpose === "voiceover";
  const metadata = { filename: file.name || "recording", filetype: file.type || "" };
  if (voiceover) { metadata.purpose = "voiceover"; }
  const upload = new window.tus.Upload(file, {
    endpoint: "/uploads",
    retryDelays: RETRY_DELAYS,
    headers: { "X-CSRF-Token": csrf },
    metadata,
    removeFingerprintOnSuccess: true,
    onAfterResponse(request, response) {
      const video = response.getHeader(voiceover ? "Practika-Voiceover" : "Practika-Video");
      if (video) { videoId = video; }
      if (request.getMethod() === "HEAD" && response.getStatus() === 200) {
        const offset = Number(response.getHeader("Upload-Offset"));
        const length = Number(response.getHeader("Upload-Length")) || file.size;
        if (offset > 0 && onResume) { onResume(Math.floor(offset * 100 / length)); }
      }
    },
    onProgress(sent, total) { if (onProgress) { onProgress(sent, total); } },
    onError(error) {
      if (finished) { return; }
      finished = true;
      // Read before the abort below resets the request.
      const messages = messagesOf(error);
      // A refused file (not a video, over the quota) must not resume later.
      upload.abort(true).catch(() => {});
      if (onError) { onError(messages); }
    },
    onSuccess() {
      const done = (id) => {
        finished = true;
        if (onDone) { onDone({ id, location: voiceover ? null : "/videos/" + id }); }
      };
      if (videoId) { done(videoId); return; }
      // Finished before a reload (or the answer was lost): ask the server.
      fetch(upload.url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
        .then((response) => response.json().then((body) => ({ response, body })))
        .then(({ response, body }) => {
          const made = voiceover ? body.voiceover : body.video;
          if (response.ok && made) { done(made); return; }
          finished = true;
          if (onError) { onError((body && body.errors) || ["The upload finished, but the video could not be found. Please try again."]); }
        })
        .catch(() => { if (onError) { onError(["The upload finished, but Practika did not answer. Reload the page to see your videos."]); } });
    },
  });
  upload.findPreviousUploads().then((previous) => {
    if (previous.length) { upload.resumeFromPreviousUpload(previous[0]); }
    upload.start();
  }).catch(() => upload.start());
  return {
    cancel() {
      finished = true;
      return upload.abort(true).catch(() => {});
    },
  };
}

export function formatBytes(bytes) {
  // Binary units, as the server's limits are given (MiB).
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return (unit === 0 ? String(value) : value.toFixed(1)) + " " + units[unit];
}

/**
 * The upload's speed, from the bytes sent in this page only: the bytes an
 * earlier upload already left on the server (a resume) and a retry that
 * goes back to the server's offset are not counted as sent. `sample(loaded)`
 * at each progress event; `perSecond()` is 0 until half a second of
 * samples exists.
 */
export function rateMeter(now = () => Date.now()) {
  let last = null;
  let lastTime = 0;
  let speed = 0;
  return {
    sample(loaded) {
      const t = now();
      if (last === null || loaded < last) { last = loaded; lastTime = t; return; }
      if (t - lastTime >= 500) {
        const current = (loaded - last) * 1000 / (t - lastTime);
        speed = speed ? speed * 0.7 + current * 0.3 : current;
        last = loaded;
        lastTime = t;
      }
    },
    perSecond() { return speed; },
  };
}
