#!/usr/bin/env bash
# Item 8: kill -9 a worker in the middle of an encode; no ffmpeg may
# survive it (they used to run on to the end, re-parented to init). Twice:
# the worker inside `practika serve`, then a `practika worker` process.
source "$(dirname "$0")/_lib.bash"

data="$WORK/node"
mkdir -p "$data"
make_video "$WORK/long.mp4" 20
# The real ffmpeg, made to encode at the video's own speed (-re), so the
# kill lands in the middle of an encode; decode checks run at full speed.
cat >"$WORK/slow-ffmpeg" <<SCRIPT
#!/bin/sh
case "\$*" in *libx264*) exec ffmpeg -re "\$@";; esac
exec ffmpeg "\$@"
SCRIPT
chmod +x "$WORK/slow-ffmpeg"
slow=(PRACTIKA_FFMPEG="$WORK/slow-ffmpeg")

create_admin "$data"
start_serve "$data" "${slow[@]}"
token=$(login "$WORK/jar")
[[ -n $token ]] || fail "could not log in"
status=$(curl -s -o /dev/null -w '%{http_code}' -b "$WORK/jar" -c "$WORK/jar" \
    -F "file=@$WORK/long.mp4;type=video/mp4" "$BASE_URL/videos?csrf_token=$token")
[[ $status == 303 ]] || fail "the upload answered $status"

# Waits for an encode (an ffmpeg running libx264 on this node's files).
wait_for_encode() {
    for _ in $(seq 300); do
        if processes_naming "$data" | grep -q libx264; then return 0; fi
        sleep 0.1
    done
    fail "no encode started"
}

wait_for_encode
say "serve is encoding: $(processes_naming "$data" | grep -c ffmpeg) ffmpeg process(es); kill -9 $SERVE_PID"
kill9 "$SERVE_PID"
sleep 1
left=$(processes_naming "$data" | grep ffmpeg || true)
[[ -z $left ]] || fail "ffmpeg outlived the killed serve: $left"

# The job is `running` under a dead worker until its lease runs out; give
# it back now so that a `practika worker` takes it at once.
python3 - "$data/practika.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE jobs_job SET status = 'queued', locked_by = NULL, locked_until = NULL WHERE status = 'running'")
db.commit()
PY
env $(node_env "$data") "${slow[@]}" "$PRACTIKA" worker >>"$data-worker.log" 2>&1 &
worker_pid=$!
PIDS+=("$worker_pid")
wait_for_encode
say "worker is encoding; kill -9 $worker_pid"
kill9 "$worker_pid"
sleep 1
left=$(processes_naming "$data" | grep ffmpeg || true)
[[ -z $left ]] || fail "ffmpeg outlived the killed worker: $left"
say "ok: no ffmpeg survived kill -9 of serve or of a worker"
