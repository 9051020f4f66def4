#!/usr/bin/env bash
# Item 7: kill -9 a node in the middle of an upload, then restart it. The
# partial file it left (named with its node id) is gone as soon as the node
# is back, not 24 hours later; a stale file of a node that is gone goes too,
# and a fresh one of another (live) node stays.
source "$(dirname "$0")/_lib.bash"

data="$WORK/node"
mkdir -p "$data/tmp"
make_video "$WORK/video.mp4" 30
node=(PRACTIKA_NODE_ID=drill-a)
create_admin "$data"
start_serve "$data" "${node[@]}"
token=$(login "$WORK/jar")
[[ -n $token ]] || fail "could not log in"

# A slow upload (50 KB/s), left running in the background.
curl -s -o /dev/null --limit-rate 50K -b "$WORK/jar" -F "file=@$WORK/video.mp4;type=video/mp4" \
    "$BASE_URL/videos?csrf_token=$token" &
PIDS+=("$!")
for _ in $(seq 100); do
    compgen -G "$data/tmp/upload-drill-a.*.part" >/dev/null && break
    sleep 0.1
done
part=$(compgen -G "$data/tmp/upload-drill-a.*.part" | head -1) || fail "no partial upload appeared"
say "uploading into $(basename "$part"); kill -9 $SERVE_PID"
kill9 "$SERVE_PID"
[[ -f $part ]] || fail "the crash should have left the partial file"

# Other nodes' files: one stale (its node is gone), one fresh (alive).
touch -d '1 hour ago' "$data/tmp/upload-drill-gone.1234.part"
touch "$data/tmp/upload-drill-b.5678.part"

start_serve "$data" "${node[@]}"
[[ ! -e $part ]] || fail "the restarted node left its own partial upload: $part"
[[ ! -e $data/tmp/upload-drill-gone.1234.part ]] || fail "a stale partial upload of a gone node stayed"
[[ -e $data/tmp/upload-drill-b.5678.part ]] || fail "a live node's upload was removed"
grep -q "removed partial uploads that a crash left behind" "$data.log" || fail "the sweep was not logged"
say "ok: the restarted node removed its own partial upload at once"
