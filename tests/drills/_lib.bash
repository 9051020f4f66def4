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

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
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

# A fresh PostgreSQL database; dropped at the end.
fresh_pg_database() {
    local name="practika_drill_$(date +%s%N)_$RANDOM"
    psql -q -d "$PG_ADMIN_URL" -c "CREATE DATABASE $name" >/dev/null
    CLEANUPS+=("psql -q -d '$PG_ADMIN_URL' -c 'DROP DATABASE IF EXISTS $name WITH (FORCE)' >/dev/null")
    echo "${PG_ADMIN_URL%/*}/$name"
}

# Environment for a node whose data lives in $1.
node_env() {
    local data=$1
    echo "PRACTIKA_DATA_DIR=$data PRACTIKA_SECRET_KEY=drill-secret-key-that-is-long-enough-0123456789 RUST_LOG=info"
}
