# Shared by the drills (sourced, not run): the binary, free ports, waiting,
# and cleanup of everything a drill starts. Drills run as root on Linux,
# after the cargo tests, from `.ci/run` (or by hand: bash tests/drills/x.sh).
set -euo pipefail

DRILL=$(basename "$0" .sh)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
# The debug binary that `cargo test` built, or a release one.
if [[ -x $TARGET_DIR/debug/practika ]]; then
    PRACTIKA=$TARGET_DIR/debug/practika
elif [[ -x $TARGET_DIR/release/practika ]]; then
    PRACTIKA=$TARGET_DIR/release/practika
else
    echo "$DRILL: no practika binary in $TARGET_DIR (run cargo build first)" >&2
    exit 1
fi
PG_ADMIN_URL=${PRACTIKA_DRILL_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
WORK=$(mktemp -d "/tmp/practika-drill-$DRILL.XXXXXX")
PIDS=()
CLEANUPS=()

say() { printf '[%s] %s\n' "$DRILL" "$*"; }
fail() {
    printf '[%s] FAILED: %s\n' "$DRILL" "$*" >&2
    for log in "$WORK"/*.log; do
        [[ -f $log ]] || continue
        printf -- '--- %s (last 30 lines)\n' "$log" >&2
        tail -30 "$log" >&2
    done
    exit 1
}

# kill -9, and reap it quietly (no "Killed" line from bash).
kill9() {
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill9 "$pid"
    done
    # A drill that failed may leave an ffmpeg it started: only processes
    # that name this drill's own folder, by their id.
    for pid in $(pgrep -f -- "$WORK" || true); do
        [[ $pid == "$$" ]] || kill -KILL "$pid" 2>/dev/null || true
    done
    local step
    for step in "${CLEANUPS[@]}"; do
        eval "$step" || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# A TCP port nobody listens on (other drills and servers share the machine).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits until URL answers (any status), up to $2 seconds (default 30).
wait_http() {
    local url=$1 limit=${2:-30}
    for _ in $(seq $((limit * 10))); do
        if curl -s -o /dev/null "$url"; then return 0; fi
        sleep 0.1
    done
    fail "$url did not answer within ${limit}s"
}

# A fresh PostgreSQL database, its URL in the variable named $1; dropped at
# the end. It sets the caller's variable rather than printing the URL: as
# `url=$(fresh_pg_database)` it ran in a subshell, whose cleanup entry was
# lost, and every drill database stayed on the server.
fresh_pg_database() {
    local name="practika_drill_$(date +%s%N)_$RANDOM"
    psql -q -d "$PG_ADMIN_URL" -c "CREATE DATABASE $name" >/dev/null
    CLEANUPS+=("psql -q -d '$PG_ADMIN_URL' -c 'DROP DATABASE IF EXISTS $name WITH (FORCE)' >/dev/null")
    printf -v "$1" '%s' "${PG_ADMIN_URL%/*}/$name"
}

# Environment for a node whose data lives in $1.
node_env() {
    local data=$1
    echo "PRACTIKA_DATA_DIR=$data PRACTIKA_SECRET_KEY=drill-secret-key-that-is-long-enough-0123456789 RUST_LOG=info"
}

# A 1280x720 test video of $2 seconds at $1 (made with ffmpeg, like the
# cargo tests' samples).
make_video() {
    local path=$1 seconds=${2:-4}
    ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i "testsrc=duration=$seconds:size=1280x720:rate=15" \
        -f lavfi -i "sine=frequency=440:duration=$seconds" -c:v libx264 -preset ultrafast -pix_fmt yuv420p \
        -c:a aac -shortest -movflags +faststart -f mp4 -y "$path"
}

# Starts `practika serve` on a free port with data in $1 (extra VAR=value
# arguments after it); sets BASE_URL and SERVE_PID, logs to $1.log.
start_serve() {
    local data=$1
    shift
    local port
    port=$(free_port)
    BASE_URL="http://127.0.0.1:$port"
    mkdir -p "$data"
    env $(node_env "$data") PRACTIKA_BIND="127.0.0.1:$port" PRACTIKA_PUBLIC_URL="$BASE_URL" "$@" \
        "$PRACTIKA" serve >>"$data.log" 2>&1 &
    SERVE_PID=$!
    PIDS+=("$SERVE_PID")
    wait_http "$BASE_URL/healthz"
}

# An admin who can log in (username drill, password below).
DRILL_PASSWORD=violet-harbour-91
create_admin() {
    local data=$1
    shift
    env $(node_env "$data") "$@" PRACTIKA_SUPERUSER_USERNAME=drill PRACTIKA_SUPERUSER_EMAIL=drill@example.com \
        PRACTIKA_SUPERUSER_PASSWORD="$DRILL_PASSWORD" "$PRACTIKA" createsuperuser --noinput >/dev/null
}

# Logs in with a cookie jar at $1; prints the CSRF token of the session.
login() {
    local jar=$1 token
    token=$(curl -s -c "$jar" -b "$jar" "$BASE_URL/login" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
    curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode "csrf_token=$token" \
        --data-urlencode "username=drill" --data-urlencode "password=$DRILL_PASSWORD" "$BASE_URL/login"
    # The token changes at login.
    curl -s -c "$jar" -b "$jar" "$BASE_URL/videos/new" | grep -o 'action="/videos?csrf_token=[^"]*"' | head -1 | sed 's/.*csrf_token=//; s/"$//'
}

# The processes (pid and command line) that mention $1 — ffmpeg run on a
# drill's files names them on its command line.
processes_naming() {
    pgrep -af -- "$1" | grep -v -e pgrep -e "bash .*drills" || true
}
