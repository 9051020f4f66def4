#!/usr/bin/env bash
# Item 9: a data folder on a real, small file system (a 24 MB tmpfs). An
# upload whose size is announced and does not fit is refused before it is
# read; one sent without a length fills the disk while it arrives. Both get
# a 507 with JSON for the upload script, and nothing partial is left.
source "$(dirname "$0")/_lib.bash"

if [[ $(id -u) != 0 ]]; then
    fail "needs root to mount a tmpfs"
fi
data="$WORK/small-disk"
mkdir -p "$data"
mount -t tmpfs -o size=24m tmpfs "$data"
CLEANUPS+=("umount '$data'")
# The database lives elsewhere: only the media fill up.
db="sqlite://$WORK/db/practika.db"
mkdir -p "$WORK/db"
settings=(DATABASE_URL="$db" PRACTIKA_DISK_RESERVE_MB=0 PRACTIKA_DISK_WARN_MB=8)
create_admin "$data" "${settings[@]}"
start_serve "$data" "${settings[@]}"
token=$(login "$WORK/jar")
[[ -n $token ]] || fail "could not log in"
# 40 MB: a real MP4 head (so the first bytes pass), then filler.
make_video "$WORK/head.mp4" 2
{ cat "$WORK/head.mp4"; head -c $((40 * 1024 * 1024)) /dev/zero; } >"$WORK/big.mp4"

leftovers() { find "$data" -name '*.part' | head -5; }

answer=$(curl -s -w '\n%{http_code}' -H 'Accept: application/json' -b "$WORK/jar" \
    -F "file=@$WORK/big.mp4;type=video/mp4" "$BASE_URL/videos?csrf_token=$token")
[[ $(tail -1 <<<"$answer") == 507 ]] || fail "an announced upload too large for the disk answered: $answer"
grep -q '"ok":false' <<<"$answer" && grep -q 'storage is full' <<<"$answer" || fail "not the JSON answer: $answer"
[[ -z $(leftovers) ]] || fail "partial files left: $(leftovers)"

# Without Content-Length (chunked): the disk fills while the bytes arrive.
answer=$(curl -s -w '\n%{http_code}' -H 'Accept: application/json' -H 'Transfer-Encoding: chunked' -b "$WORK/jar" \
    -F "file=@$WORK/big.mp4;type=video/mp4" "$BASE_URL/videos?csrf_token=$token")
[[ $(tail -1 <<<"$answer") == 507 ]] || fail "a chunked upload that filled the disk answered: $answer"
grep -q 'storage is full' <<<"$answer" || fail "not the JSON answer: $answer"
sleep 0.5
[[ -z $(leftovers) ]] || fail "partial files left: $(leftovers)"
# The first was refused by the free-space check, the second by the full disk
# itself (ENOSPC while writing).
[[ $(grep -c "nearly) full" "$data.log") == 1 ]] || fail "expected one refusal by the free-space check"
[[ $(grep -c 'path=/videos status=507' "$data.log") == 2 ]] || fail "expected two 507 answers in the log"
used=$(df --output=used -k "$data" | tail -1 | tr -d ' ')
[[ $used -lt 4096 ]] || fail "the disk still holds ${used} KB after the refused uploads"

# The dashboard warns, and the app still answers.
dashboard=$(curl -s -b "$WORK/jar" "$BASE_URL/staff")
grep -q 'id="disk"' <<<"$dashboard" || fail "the dashboard shows no free space"
# A small upload still fits.
status=$(curl -s -o /dev/null -w '%{http_code}' -b "$WORK/jar" -F "file=@$WORK/head.mp4;type=video/mp4" \
    "$BASE_URL/videos?csrf_token=$token")
[[ $status == 303 ]] || fail "a small upload after the full disk answered $status"
say "ok: 507 with JSON for an announced and for a streamed upload, nothing partial left"
