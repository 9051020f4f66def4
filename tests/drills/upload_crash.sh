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

# The same for a resumable (tus) upload: kill -9 in the middle of a slow
# PATCH. Its bytes are not a crash's leftovers but the upload itself: after
# the restart the server reports an offset the disk holds, the client
# resumes from it, and the video is the file, byte for byte; nothing stays
# in the upload folder.
# The video, then a `free` box of zeros: a valid MP4 of 8 MiB, long enough
# at 1 MiB/s to be cut in the middle.
python3 - "$WORK/video.mp4" "$WORK/big.mp4" <<'PY'
import struct, sys
video = open(sys.argv[1], "rb").read()
pad = 8 * 1024 * 1024 - len(video)
open(sys.argv[2], "wb").write(video + struct.pack(">I", pad) + b"free" + bytes(pad - 8))
PY
size=$(stat -c %s "$WORK/big.mp4")
tus=(-H "Tus-Resumable: 1.0.0" -H "X-CSRF-Token: $token")
location=$(curl -s -D - -o /dev/null -b "$WORK/jar" "${tus[@]}" -X POST -H "Upload-Length: $size" \
    -H "Upload-Metadata: filename $(printf 'crash.mp4' | base64)" "$BASE_URL/uploads" |
    tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
[[ $location == /uploads/* ]] || fail "no resumable upload was created"
upload_offset() {
    curl -s -I -b "$WORK/jar" -H "Tus-Resumable: 1.0.0" "$BASE_URL$location" | tr -d '\r' |
        sed -n 's/^[Uu]pload-[Oo]ffset: //p'
}
curl -s -o /dev/null --limit-rate 1M -b "$WORK/jar" "${tus[@]}" -X PATCH -H "Upload-Offset: 0" \
    -H "Content-Type: application/offset+octet-stream" --data-binary "@$WORK/big.mp4" "$BASE_URL$location" &
PIDS+=("$!")
for _ in $(seq 150); do
    (($(upload_offset) > 0)) && break
    sleep 0.1
done
recorded=$(upload_offset)
((recorded > 0)) || fail "the server recorded no progress of the slow PATCH"
sleep 1
say "resumable upload at $recorded of $size bytes recorded; kill -9 $SERVE_PID"
kill9 "$SERVE_PID"
upload_id=${location#/uploads/}
tus_part="$data/tmp/tus/${upload_id//-/}.part"
[[ -f $tus_part ]] || fail "the upload's bytes should survive the crash: $tus_part"
on_disk=$(stat -c %s "$tus_part")
((on_disk >= recorded)) || fail "the recorded offset ($recorded) is ahead of the disk ($on_disk)"

start_serve "$data" "${node[@]}"
[[ -f $tus_part ]] || fail "the restart removed a resumable upload's bytes"
offset=$(upload_offset)
((offset >= recorded && offset < size)) || fail "after the restart the offset is $offset (recorded $recorded, size $size)"
say "after the restart the server resumes at $offset ($on_disk bytes were on disk)"
answer=$(tail -c +$((offset + 1)) "$WORK/big.mp4" | curl -s -D - -o /dev/null -b "$WORK/jar" "${tus[@]}" -X PATCH \
    -H "Upload-Offset: $offset" -H "Content-Type: application/offset+octet-stream" --data-binary @- \
    "$BASE_URL$location" | tr -d '\r')
grep -q '^HTTP/1.1 204' <<<"$answer" || fail "the resumed PATCH was refused: $answer"
video=$(sed -n 's/^[Pp]ractika-[Vv]ideo: //p' <<<"$answer")
[[ -n $video ]] || fail "the resumed upload did not become a video: $answer"
want=$(sha256sum "$WORK/big.mp4" | cut -d' ' -f1)
stored=$(sha256sum "$data"/media/originals/* | cut -d' ' -f1 | sort -u)
grep -qx "$want" <<<"$stored" || fail "no stored original has the file's SHA-256 ($want): $stored"
[[ ! -e $tus_part ]] || fail "the finished upload left its bytes behind"
say "ok: the resumable upload survived kill -9 and ended as the file, byte for byte (video $video)"
