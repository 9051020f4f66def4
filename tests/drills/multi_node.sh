#!/usr/bin/env bash
# Issue 15: several nodes on real infrastructure. Two `practika serve` nodes
# and one `practika worker`, all on one fresh PostgreSQL database, behind
# nginx (TLS, round-robin) running deploy/nginx/practika.conf, the README's
# site, rendered with sed for this machine's ports and paths. Media:
#   PRACTIKA_DRILL_MEDIA=s3     (the default) in a bucket of a moto_server
#                               started here (players are redirected to
#                               presigned URLs);
#   PRACTIKA_DRILL_MEDIA=local  in one media folder that every process
#                               shares, sent by nginx (X-Accel-Redirect).
# Checks: the practice loop works through nginx; a session made on one node
# works on the other; kill -9 of the node receiving an upload (a form post,
# retried through the other node, and a resumable one, resumed on its own
# node once it is back) loses nothing and leaves nothing behind; every job
# ran exactly once, and every video has exactly its one set of stored files.
source "$(dirname "$0")/_lib.bash"

MEDIA=${PRACTIKA_DRILL_MEDIA:-s3}
[[ $MEDIA == s3 || $MEDIA == local ]] || fail "PRACTIKA_DRILL_MEDIA must be s3 or local, not $MEDIA"
command -v nginx >/dev/null || fail "nginx is missing (apt-get install nginx-light)"
command -v openssl >/dev/null || fail "openssl is missing (apt-get install openssl)"
command -v ss >/dev/null || fail "ss is missing (apt-get install iproute2)"
started_at=$(date +%s)
# nginx's workers run as www-data, as on Debian: they must reach the media
# folder as an operator's would.
chmod 755 "$WORK"

fresh_pg_database DB
q() { psql -X -q -t -A -d "$DB" -c "$1"; }

# --- media -------------------------------------------------------------------
common=(DATABASE_URL="$DB" PRACTIKA_ENV=production PRACTIKA_TRUSTED_PROXIES=127.0.0.1)
if [[ $MEDIA == s3 ]]; then
    # Where .ci/run installs it (and says so in PRACTIKA_MOTO_SERVER).
    moto_server=${PRACTIKA_MOTO_SERVER:-$HOME/.cache/moto-venv/bin/moto_server}
    MOTO=$(dirname "$(dirname "$moto_server")")
    [[ -x $moto_server && -x $MOTO/bin/python ]] ||
        fail "no moto_server at $moto_server (python3 -m venv $MOTO && $MOTO/bin/pip install 'moto[server]')"
    s3_port=$(free_port)
    "$moto_server" -H 127.0.0.1 -p "$s3_port" >>"$WORK/moto.log" 2>&1 &
    PIDS+=("$!")
    wait_http "http://127.0.0.1:$s3_port/" 60
    BUCKET=practika-drill
    export AWS_ENDPOINT="http://127.0.0.1:$s3_port" AWS_ACCESS_KEY_ID=drill-access-key \
        AWS_SECRET_ACCESS_KEY=drill-secret-access-key AWS_DEFAULT_REGION=us-east-1 AWS_ALLOW_HTTP=true
    s3() { "$MOTO/bin/python" - "$BUCKET" "$@" <<'PY'
import os, sys
import boto3
bucket, action = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT"])
if action == "create":
    s3.create_bucket(Bucket=bucket)
elif action == "keys":
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            print(item["Key"])
elif action == "multipart":
    for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        print(upload["Key"], upload["UploadId"])
PY
    }
    s3 create
    common+=(PRACTIKA_MEDIA_URL="s3://$BUCKET/media")
    # No shared folder: each process has its own data folder.
    data_a=$WORK/data-a data_b=$WORK/data-b data_w=$WORK/data-worker
    MEDIA_DIR=$WORK/unused-media
else
    # One data folder for all (a shared volume, on one machine), media sent by nginx.
    data_a=$WORK/data data_b=$WORK/data data_w=$WORK/data
    MEDIA_DIR=$WORK/data/media
    common+=(PRACTIKA_MEDIA_ACCEL_PREFIX=/media-internal)
fi
mkdir -p "$data_a" "$data_b" "$data_w" "$MEDIA_DIR"

# --- nginx: the README's site, rendered --------------------------------------
port_a=$(free_port)
port_b=$(free_port)
https_port=$(free_port)
http_port=$(free_port)
PROXY="https://127.0.0.1:$https_port"
common+=(PRACTIKA_PUBLIC_URL="$PROXY")
mkdir -p "$WORK/nginx"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$WORK/nginx/key.pem" -out "$WORK/nginx/cert.pem" 2>/dev/null
# Every curl of this drill checks nginx's certificate against it.
export CURL_CA_BUNDLE=$WORK/nginx/cert.pem
site=$ROOT/deploy/nginx/practika.conf
sed -e "s|^\( *\)server 127\.0\.0\.1:8000 \(.*\)$|\1server 127.0.0.1:$port_a \2\n\1server 127.0.0.1:$port_b \2|" \
    -e '/listen \[::\]/d' \
    -e "s|listen 80;|listen 127.0.0.1:$http_port;|" \
    -e "s|listen 443 ssl http2;|listen 127.0.0.1:$https_port ssl http2;|" \
    -e "s|/etc/letsencrypt/live/practika.example.com/fullchain.pem|$WORK/nginx/cert.pem|" \
    -e "s|/etc/letsencrypt/live/practika.example.com/privkey.pem|$WORK/nginx/key.pem|" \
    -e "s|alias /srv/practika/data/media/;|alias $MEDIA_DIR/;|" \
    "$site" >"$WORK/nginx/practika.conf"
for want in "server 127.0.0.1:$port_a " "server 127.0.0.1:$port_b " "listen 127.0.0.1:$http_port;" \
    "listen 127.0.0.1:$https_port ssl" "ssl_certificate $WORK/nginx/cert.pem;" \
    "ssl_certificate_key $WORK/nginx/key.pem;" "alias $MEDIA_DIR/;"; do
    grep -qF -- "$want" "$WORK/nginx/practika.conf" ||
        fail "$site changed: the drill could not render '$want' into it (keep the lines it replaces)"
done
nginx_user=www-data
id "$nginx_user" >/dev/null 2>&1 || nginx_user=nobody
cat >"$WORK/nginx/nginx.conf" <<CONF
daemon off;
user $nginx_user;
worker_processes 2;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 512; }
http {
    log_format drill '\$request_method \$uri \$status upstream=\$upstream_addr \$upstream_status';
    access_log $WORK/nginx-access.log drill;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    include $WORK/nginx/practika.conf;
}
CONF
nginx -e "$WORK/nginx-error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -t >/dev/null 2>&1 ||
    fail "nginx refuses the rendered site: $(nginx -e "$WORK/nginx-error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -t 2>&1)"
nginx -e "$WORK/nginx-error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" >>"$WORK/nginx-error.log" 2>&1 &
nginx_pid=$!
# Not with the others' kill -9: nginx's workers would outlive their master
# (and keep its ports). TERM, which stops the workers, then the master.
stop_nginx() {
    local workers pid
    workers=$(pgrep -P "$nginx_pid" || true)
    kill -TERM "$nginx_pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$nginx_pid" 2>/dev/null || break
        sleep 0.1
    done
    for pid in $nginx_pid $workers; do kill -KILL "$pid" 2>/dev/null || true; done
    wait "$nginx_pid" 2>/dev/null || true
}
trap 'stop_nginx; cleanup' EXIT

# --- the nodes ----------------------------------------------------------------
declare -A NODE_PID NODE_PORT=([a]=$port_a [b]=$port_b) NODE_DATA=([a]=$data_a [b]=$data_b)
start_node() {
    local name=$1
    env $(node_env "${NODE_DATA[$name]}") "${common[@]}" PRACTIKA_NODE_ID="drill-$name" \
        PRACTIKA_BIND="127.0.0.1:${NODE_PORT[$name]}" "$PRACTIKA" serve >>"$WORK/node-$name.log" 2>&1 &
    NODE_PID[$name]=$!
    PIDS+=("$!")
}
# Both at once on the empty database: they race for the migrations.
start_node a
start_node b
wait_http "http://127.0.0.1:$port_a/healthz" 60
wait_http "http://127.0.0.1:$port_b/healthz" 60
env $(node_env "$data_w") "${common[@]}" "$PRACTIKA" worker --concurrency 2 >>"$WORK/worker.log" 2>&1 &
worker_pid=$!
PIDS+=("$worker_pid")
wait_http "$PROXY/healthz"
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/login")
[[ $status == 301 ]] || fail "plain HTTP answered $status, not a redirect to HTTPS"
say "nginx on $PROXY (TLS) in front of serve nodes :$port_a and :$port_b, one worker, media: $MEDIA"

# --- helpers through nginx ------------------------------------------------------
BASE_URL=$PROXY
csrf_of() {
    curl -s -b "$1" -c "$1" "$PROXY/videos/new" | grep -o 'action="/videos?csrf_token=[^"]*"' | head -1 |
        sed 's/.*csrf_token=//; s/"$//'
}
# A small test video ($2 seconds, tone $3 Hz: distinct bytes for each).
small_video() {
    ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i "testsrc=duration=$2:size=640x360:rate=15" \
        -f lavfi -i "sine=frequency=$3:duration=$2" -c:v libx264 -preset ultrafast -pix_fmt yuv420p \
        -c:a aac -shortest -movflags +faststart -f mp4 -y "$1"
}
json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1"; }
# Uploads $3 with the jar $1 and CSRF token $2 through nginx; prints the video id.
upload() {
    local answer
    answer=$(curl -s -b "$1" -c "$1" -H 'Accept: application/json' -F "file=@$3;type=video/mp4" \
        "$PROXY/videos?csrf_token=$2") || fail "the upload of $3 did not complete"
    json_field id <<<"$answer" 2>/dev/null | grep -E '^[0-9a-f-]{36}$' || fail "the upload of $3 answered: $answer"
}
# POSTs a url-encoded form through nginx; prints the Location of its 303.
post_form() {
    local jar=$1 path=$2
    shift 2
    local args=() field headers
    for field in "$@"; do args+=(--data-urlencode "$field"); done
    headers=$(curl -s -D - -o /dev/null -b "$jar" -c "$jar" "${args[@]}" "$PROXY$path" | tr -d '\r')
    grep -q '^HTTP/[0-9.]* 303' <<<"$headers" || fail "POST $path answered: $(head -1 <<<"$headers")"
    sed -n 's/^[Ll]ocation: //p' <<<"$headers"
}
# Accepts the invitation at link $2 as user $3 with the jar $1.
accept_invitation() {
    local jar=$1 link=$2 username=$3 token
    token=$(curl -s -b "$jar" -c "$jar" "$link" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 |
        sed 's/.*value="//; s/"$//')
    [[ -n $token ]] || fail "the invitation page $link has no form"
    post_form "$jar" "${link#"$PROXY"}" "csrf_token=$token" "username=$username" "first_name=${username^}" \
        "last_name=Drill" "password=$DRILL_PASSWORD" "password_confirm=$DRILL_PASSWORD" >/dev/null
}
invite() {
    local out
    out=$(env $(node_env "$data_w") "${common[@]}" "$PRACTIKA" invite "$1" --role "$2" 2>&1) ||
        fail "practika invite $1 failed: $out"
    grep -o "$PROXY/invite/[^ ]*" <<<"$out" | head -1
}
# Waits until no video or clip is pending or processing and no job is
# queued or running (up to $1 seconds); fails on a failed one.
wait_idle() {
    local limit=${1:-120} busy failed
    for _ in $(seq $((limit * 2))); do
        failed=$(q "SELECT string_agg(id::text || ': ' || coalesce(processing_error, ''), '; ') FROM core_videoasset WHERE processing_status = 'failed'")
        [[ -z $failed ]] || fail "processing failed: $failed"
        busy=$(q "SELECT (SELECT count(*) FROM core_videoasset WHERE processing_status IN ('pending', 'processing'))
            + (SELECT count(*) FROM core_videoclip WHERE processing_status IN ('pending', 'processing'))
            + (SELECT count(*) FROM jobs_job WHERE status IN ('queued', 'running'))")
        ((busy == 0)) && return 0
        sleep 0.5
    done
    fail "still busy after ${limit}s: $(q "SELECT string_agg(kind || ' ' || status || ' attempts=' || attempts, ', ') FROM jobs_job WHERE status <> 'done'")"
}
# GET with a Range through nginx (following Practika's redirect to the
# bucket with S3 media): 206 and exactly the bytes asked for.
check_range() {
    local jar=$1 path=$2 out
    out=$(curl -s -L -b "$jar" -r 100-1123 -o "$WORK/range.bin" -w '%{http_code} %{size_download}' "$PROXY$path")
    [[ $out == "206 1024" ]] || fail "Range request for $path through nginx answered $out, not 206 with 1024 bytes"
}

# --- 1. the practice loop through nginx -----------------------------------------
small_video "$WORK/demo.mp4" 4 440
small_video "$WORK/attempt.mp4" 4 523
create_admin "$data_w" "${common[@]}"
admin_token=$(login "$WORK/admin.jar")
[[ -n $admin_token ]] || fail "the admin could not log in through nginx"

coach_link=$(invite coach@example.com coach)
student_link=$(invite student@example.com student)
[[ -n $coach_link && -n $student_link ]] || fail "practika invite printed no link under $PROXY"
accept_invitation "$WORK/coach.jar" "$coach_link" coach
accept_invitation "$WORK/student.jar" "$student_link" student
coach_token=$(csrf_of "$WORK/coach.jar")
student_token=$(csrf_of "$WORK/student.jar")
[[ -n $coach_token && -n $student_token ]] || fail "the invited coach or student is not logged in after accepting"

demo=$(upload "$WORK/coach.jar" "$coach_token" "$WORK/demo.mp4")
exercise=$(post_form "$WORK/coach.jar" /exercises "csrf_token=$coach_token" "name=Drill scales" \
    "description=Two octaves, slowly." "video_id=$demo")
exercise=${exercise#"$PROXY"}
[[ $exercise =~ ^/exercises/[0-9a-f-]{36}$ ]] || fail "publishing the exercise led to '$exercise'"
attempt_video=$(upload "$WORK/student.jar" "$student_token" "$WORK/attempt.mp4")
attempt=$(post_form "$WORK/student.jar" "$exercise/comments" "csrf_token=$student_token" \
    "text=My first try at the scales" "video_id=$attempt_video")
attempt=${attempt##*#comment-}
[[ $attempt =~ ^[0-9a-f-]{36}$ ]] || fail "posting the attempt led to no comment"
wait_idle 120
clip=$(curl -s -b "$WORK/coach.jar" -H 'Accept: application/json' --data-urlencode "csrf_token=$coach_token" \
    --data-urlencode start=1 --data-urlencode end=2.5 "$PROXY/videos/$attempt_video/clips" | json_field id)
[[ $clip =~ ^[0-9a-f-]{36}$ ]] || fail "the coach could not clip the attempt"
reply_text="Lift the wrist at the turn ($RANDOM$RANDOM)"
post_form "$WORK/coach.jar" "$exercise/comments" "csrf_token=$coach_token" "text=$reply_text" \
    "parent_id=$attempt" "clip_id=$clip" >/dev/null
wait_idle 120
status=$(curl -s -o "$WORK/thread.html" -w '%{http_code} %{redirect_url}' -b "$WORK/student.jar" "$PROXY$exercise")
[[ $status == "200 " ]] || fail "the exercise page answered the student $status"
grep -qF "$reply_text" "$WORK/thread.html" ||
    fail "the student does not see the coach's reply on $exercise (the attempt is $(grep -qF 'My first try' "$WORK/thread.html" || echo not) on it)"
check_range "$WORK/student.jar" "/videos/$demo/media/original"
check_range "$WORK/student.jar" "/videos/$attempt_video/media/360p"
check_range "$WORK/student.jar" "/clips/$clip/media"
if [[ $MEDIA == local ]]; then
    # The bytes came from nginx: a node answers the same request with an
    # empty body and the internal location, which a browser cannot ask for.
    jar_cookie=$(awk -F'\t' 'NF >= 7 && ($1 !~ /^#/ || $1 ~ /^#HttpOnly_/) {print $6 "=" $7}' "$WORK/student.jar" | paste -sd';' | sed 's/;/; /g')
    accel=$(curl -s -D - -o "$WORK/accel.body" -H "Cookie: $jar_cookie" "http://127.0.0.1:$port_a/videos/$demo/media/original" |
        tr -d '\r' | sed -n 's/^[Xx]-[Aa]ccel-[Rr]edirect: //p')
    [[ $accel == /media-internal/* && ! -s $WORK/accel.body ]] || fail "a node sent the media itself, not X-Accel-Redirect ('$accel')"
    status=$(curl -s -o /dev/null -w '%{http_code}' -b "$WORK/student.jar" "$PROXY$accel")
    [[ $status == 404 ]] || fail "nginx's internal media location answered a browser: $status"
fi
say "ok: practice loop through nginx (exercise ${exercise#/exercises/}, attempt, clipped reply seen by the student, ranges play)"

# --- 2. a session made on one node works on the other ------------------------------
# Straight to the nodes, past nginx, with the cookies as a header (they are
# Secure: curl would not send them over plain HTTP by itself).
cookies_in() { tr -d '\r' <"$1" | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | awk -F= '{c[$1] = $0} END {for (k in c) print c[k]}' | paste -sd';' | sed 's/;/; /g'; }
node_url() { echo "http://127.0.0.1:${NODE_PORT[$1]}"; }
curl -s -D "$WORK/h1" -o "$WORK/login.html" "$(node_url a)/login"
token=$(grep -o 'name="csrf_token" value="[^"]*"' "$WORK/login.html" | head -1 | sed 's/.*value="//; s/"$//')
curl -s -D "$WORK/h2" -o /dev/null -H "Cookie: $(cookies_in "$WORK/h1")" --data-urlencode "csrf_token=$token" \
    --data-urlencode username=student --data-urlencode "password=$DRILL_PASSWORD" "$(node_url a)/login"
grep -q '^HTTP/[0-9.]* 303' "$WORK/h2" || fail "logging in on node a answered $(head -1 "$WORK/h2")"
cookie=$(cookies_in "$WORK/h2")
for node in b a; do
    page=$(curl -s -w '\n%{http_code}' -H "Cookie: $cookie" "$(node_url "$node")/account")
    [[ ${page##*$'\n'} == 200 ]] && grep -q student <<<"$page" ||
        fail "the session made on node a does not work on node $node (status ${page##*$'\n'})"
done
# And the nginx jar's session (made by whichever node nginx chose) on both.
jar_cookie=$(awk -F'\t' 'NF >= 7 && ($1 !~ /^#/ || $1 ~ /^#HttpOnly_/) {print $6 "=" $7}' "$WORK/coach.jar" | paste -sd';' | sed 's/;/; /g')
for node in a b; do
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $jar_cookie" "$(node_url "$node")/inbox")
    [[ $status == 200 ]] || fail "the coach's session (made through nginx) answers $status on node $node"
done
say "ok: a session made on node a works on node b, and one made through nginx on both"

# Behind nginx every connection comes from nginx: login throttling must
# count the client's address (X-Forwarded-For from a trusted proxy), or one
# client's failures would lock everyone out. 50 failures (the limit per
# address) from 127.0.0.2, then the coach logs in from there and from 127.0.0.3.
from_jar() { # $1: source address; prints the login form's token
    curl -s --interface "$1" -c "$WORK/from-$1.jar" -b "$WORK/from-$1.jar" "$PROXY/login" |
        grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//'
}
login_from() { # $1: source address, $2: username, $3: password; prints the status
    curl -s -o /dev/null -w '%{http_code}' --interface "$1" -c "$WORK/from-$1.jar" -b "$WORK/from-$1.jar" \
        --data-urlencode "csrf_token=$(from_jar "$1")" --data-urlencode "username=$2" \
        --data-urlencode "password=$3" "$PROXY/login"
}
token=$(from_jar 127.0.0.2)
[[ -n $token ]] || fail "no login form from 127.0.0.2"
seq 50 | xargs -P 4 -I{} curl -s -o /dev/null --interface 127.0.0.2 -b "$WORK/from-127.0.0.2.jar" \
    --data-urlencode "csrf_token=$token" --data-urlencode "username=nobody-{}" \
    --data-urlencode "password=wrong-password" "$PROXY/login"
status=$(login_from 127.0.0.2 coach "$DRILL_PASSWORD")
[[ $status != 303 ]] || fail "after 50 failed logins from 127.0.0.2 a login from there still went through"
status=$(login_from 127.0.0.3 coach "$DRILL_PASSWORD")
[[ $status == 303 ]] ||
    fail "50 failed logins from 127.0.0.2 locked out 127.0.0.3 ($status): the nodes count nginx's address, not the client's"
say "ok: login throttling behind nginx counts the client's address (127.0.0.2 refused, 127.0.0.3 let in)"

# --- 3. kill -9 of the node receiving an upload --------------------------------
# The node that holds an open connection from nginx on its port.
receiving_node() {
    local node
    for _ in $(seq 100); do
        for node in a b; do
            if ss -Htn state established "( sport = :${NODE_PORT[$node]} )" | grep -q .; then
                echo "$node"
                return 0
            fi
        done
        sleep 0.1
    done
    return 1
}
restart_node() {
    start_node "$1"
    wait_http "$(node_url "$1")/healthz" 60
}
# An MP4 of 6 MiB (a short video, then a `free` box of zeros) at 512 KiB/s:
# 12 seconds on the wire, cut in the middle.
python3 - "$WORK/attempt.mp4" "$WORK/big.mp4" <<'PY'
import struct, sys
video = open(sys.argv[1], "rb").read() + b"\0" * 7  # other bytes than the attempt's
pad = 6 * 1024 * 1024 - len(video)
open(sys.argv[2], "wb").write(video + struct.pack(">I", pad) + b"free" + bytes(pad - 8))
PY
wait_idle 60
videos_before=$(q "SELECT count(*) FROM core_videoasset")
# The client: the upload form's post, tried again after a failure (as the
# upload script does), slowly the first time.
(
    for try in 1 2 3 4 5; do
        rate=()
        ((try == 1)) && rate=(--limit-rate 512K)
        code=$(curl -s "${rate[@]}" -o "$WORK/retry.json" -w '%{http_code}' -b "$WORK/student.jar" \
            -H 'Accept: application/json' -F "file=@$WORK/big.mp4;type=video/mp4" \
            "$PROXY/videos?csrf_token=$student_token")
        echo "$try $code" >>"$WORK/retry.tries"
        [[ $code == 200 ]] && exit 0
        sleep 1
    done
    exit 1
) &
client=$!
PIDS+=("$client")
victim=$(receiving_node) || fail "no node received the upload"
sleep 2
kill9 "${NODE_PID[$victim]}"
say "killed node $victim (-9) in the middle of an upload"
wait "$client" || fail "the client's upload never succeeded: $(paste -sd, "$WORK/retry.tries")"
tries=$(paste -sd, "$WORK/retry.tries")
[[ $(head -1 "$WORK/retry.tries") != "1 200" ]] || fail "the first try succeeded: the kill missed the upload"
big=$(json_field id <"$WORK/retry.json")
[[ $big =~ ^[0-9a-f-]{36}$ ]] || fail "the retried upload answered $(cat "$WORK/retry.json")"
say "the client's tries (try status): $tries; the other node took it (video $big)"

restart_node "$victim"
# nginx skips a node for fail_timeout (3 s) after it refused a connection:
# the next kill must find the node back in the round.
sleep 3
wait_idle 120

# The same with a resumable (tus) upload: the node receiving its PATCH
# dies. Its bytes are on that node's disk, and nginx sends every request for
# the upload there: while it is down the client gets 502 and retries; once
# it is back the client asks for the offset and resumes from it.
size=$(stat -c %s "$WORK/big.mp4")
python3 - "$WORK/big.mp4" "$WORK/big-tus.mp4" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[-1] = 1  # inside the free box: another file, the same video
open(sys.argv[2], "wb").write(data)
PY
tus=(-H "Tus-Resumable: 1.0.0" -H "X-CSRF-Token: $student_token")
location=$(curl -s -D - -o /dev/null -b "$WORK/student.jar" "${tus[@]}" -X POST -H "Upload-Length: $size" \
    -H "Upload-Metadata: filename $(printf 'resumed.mp4' | base64)" "$PROXY/uploads" |
    tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
location=${location#"$PROXY"}
[[ $location == /uploads/* ]] || fail "no resumable upload was created through nginx"
upload_offset() {
    curl -s -I -b "$WORK/student.jar" -H "Tus-Resumable: 1.0.0" "$PROXY$location" | tr -d '\r' |
        sed -n 's/^[Uu]pload-[Oo]ffset: //p'
}
curl -s -o /dev/null --limit-rate 512K -b "$WORK/student.jar" "${tus[@]}" -X PATCH -H "Upload-Offset: 0" \
    -H "Content-Type: application/offset+octet-stream" --data-binary "@$WORK/big-tus.mp4" "$PROXY$location" &
patch_client=$!
PIDS+=("$patch_client")
tus_victim=$(receiving_node) || fail "no node received the PATCH"
for _ in $(seq 150); do
    recorded=$(upload_offset)
    ((${recorded:-0} > 0)) && break
    sleep 0.1
done
((${recorded:-0} > 0)) || fail "the server recorded no progress of the slow PATCH"
sleep 1
kill9 "${NODE_PID[$tus_victim]}"
wait "$patch_client" 2>/dev/null || true
say "killed node $tus_victim (-9) in the middle of a resumable upload's PATCH ($recorded bytes recorded)"
status=$(curl -s -o /dev/null -w '%{http_code}' -I -b "$WORK/student.jar" -H "Tus-Resumable: 1.0.0" "$PROXY$location")
[[ $status == 502 ]] || fail "while its node is down the upload answered $status, not 502 (another node took it?)"
# Other requests go to the node that is up meanwhile.
status=$(curl -s -o /dev/null -w '%{http_code}' -b "$WORK/student.jar" "$PROXY$exercise")
[[ $status == 200 ]] || fail "with node $tus_victim down the site answered $status"
restart_node "$tus_victim"
offset=$(upload_offset)
[[ $offset =~ ^[0-9]+$ ]] && ((offset >= recorded && offset < size)) ||
    fail "after the restart node $tus_victim reports offset '$offset' for $location (recorded $recorded, size $size)"
answer=$(tail -c +$((offset + 1)) "$WORK/big-tus.mp4" | curl -s -D - -o /dev/null -b "$WORK/student.jar" "${tus[@]}" \
    -X PATCH -H "Upload-Offset: $offset" -H "Content-Type: application/offset+octet-stream" --data-binary @- \
    "$PROXY$location" | tr -d '\r')
grep -q '^HTTP/[0-9.]* 204' <<<"$answer" || fail "the resumed PATCH was refused: $(head -1 <<<"$answer")"
resumed=$(sed -n 's/^[Pp]ractika-[Vv]ideo: //p' <<<"$answer")
[[ $resumed =~ ^[0-9a-f-]{36}$ ]] || fail "the resumed upload did not become a video"
say "node $tus_victim, back, resumed the upload at $offset of $size bytes (video $resumed)"

# Nothing lost: two more videos, each once, processed, byte for byte.
wait_idle 120
videos_after=$(q "SELECT count(*) FROM core_videoasset")
((videos_after == videos_before + 2)) || fail "$((videos_after - videos_before)) videos were added, not 2"
for pair in "$big:$WORK/big.mp4" "$resumed:$WORK/big-tus.mp4"; do
    id=${pair%%:*} file=${pair#*:}
    check_range "$WORK/student.jar" "/videos/$id/media/360p"
    got=$(curl -s -L -b "$WORK/student.jar" "$PROXY/videos/$id/media/original" | sha256sum | cut -d' ' -f1)
    [[ $got == $(sha256sum "$file" | cut -d' ' -f1) ]] || fail "video $id does not play back as the file uploaded"
done
say "ok: nothing lost: both uploads are videos, processed, and play back byte for byte with ranges"

# --- 4. nothing left behind, every job exactly once -------------------------------
sleep 1
wait_idle 60
left=$(find "$data_a" "$data_b" "$data_w" -name '*.part' 2>/dev/null | sort -u)
[[ -z $left ]] || fail "partial files left after the restarts: $left"
if [[ $MEDIA == s3 ]]; then
    # The jobs' scratch copies of originals go once the job is done.
    left=$(find "$data_a" "$data_b" "$data_w" -path '*/.fetched/*' -type f 2>/dev/null | sort -u)
    [[ -z $left ]] || fail "scratch files left by the jobs: $left"
fi
# Every stored file is one that the database names, and the other way round:
# one original, one poster and one set of renditions per video, one file per clip.
q "SELECT storage_path FROM core_videoasset WHERE storage_path IS NOT NULL
   UNION SELECT poster_path FROM core_videoasset WHERE poster_path IS NOT NULL
   UNION SELECT r.value->>'path' FROM core_videoasset, jsonb_each(renditions::jsonb) r
   UNION SELECT storage_path FROM core_videoclip" | sort -u >"$WORK/named"
if [[ $MEDIA == s3 ]]; then
    s3 keys | sed 's|^media/||' | sort >"$WORK/stored"
    pending=$(s3 multipart)
    [[ -z $pending ]] || fail "unfinished multipart uploads left in the bucket: $pending"
else
    (cd "$MEDIA_DIR" && find . -type f | sed 's|^\./||' | sort) >"$WORK/stored"
fi
extra=$(comm -13 "$WORK/named" "$WORK/stored")
missing=$(comm -23 "$WORK/named" "$WORK/stored")
[[ -z $missing ]] || fail "files the database names are missing from the media store: $missing"
[[ -z $extra ]] || fail "files in the media store that no row names: $extra"
say "ok: $(wc -l <"$WORK/stored") stored files, exactly those the database names; no partial files"

jobs=$(q "SELECT count(*) FROM jobs_job")
((jobs > 0)) || fail "no jobs ran"
odd=$(q "SELECT string_agg(id || ' ' || kind || ' ' || status || ' attempts=' || attempts, ', ') FROM jobs_job WHERE status <> 'done' OR attempts <> 1")
[[ -z $odd ]] || fail "jobs not done in exactly one attempt: $odd"
twice=$(q "SELECT string_agg(kind, ', ') FROM (SELECT kind FROM jobs_job GROUP BY kind, payload::text HAVING count(*) > 1) d")
[[ -z $twice ]] || fail "the same job was queued more than once: $twice"
# Each job started once, in the logs of all three processes together.
sed 's/\x1b\[[0-9;]*m//g' "$WORK"/node-*.log "$WORK/worker.log" | grep 'job started' |
    grep -o 'job_id=[0-9]*' | sort >"$WORK/started"
starts=$(wc -l <"$WORK/started")
again=$(uniq -d "$WORK/started" | paste -sd' ')
[[ -z $again ]] || fail "jobs started more than once: $again"
((starts == jobs)) || fail "$starts job starts logged for $jobs jobs"
by() { sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -c 'job started' || true; }
kinds=$(q "SELECT string_agg(kind || ' ' || n, ', ') FROM (SELECT kind, count(*) n FROM jobs_job GROUP BY kind ORDER BY kind) k")
upstreams=$(grep -o 'upstream=127.0.0.1:[0-9]*' "$WORK/nginx-access.log" | sort | uniq -c | awk '{print $2 " " $1}' | paste -sd, | sed 's/upstream=//g')
grep -q "upstream=127.0.0.1:$port_a\b" "$WORK/nginx-access.log" && grep -q "upstream=127.0.0.1:$port_b\b" "$WORK/nginx-access.log" ||
    fail "nginx did not send requests to both nodes: $upstreams"
say "ok: nginx spread the requests over both nodes (node: requests): $upstreams"
say "ok: $jobs jobs ($kinds), each done in one attempt and started once (node a $(by "$WORK/node-a.log"), node b $(by "$WORK/node-b.log"), worker $(by "$WORK/worker.log"))"
say "ok: multi-node drill ($MEDIA media) passed in $(($(date +%s) - started_at)) s"
