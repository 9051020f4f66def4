#!/usr/bin/env bash
# Practika against a bare actix-web + diesel + askama handler, on the same
# seed-demo database, PostgreSQL and SQLite; media ranges against nginx; a
# 256-connection soak. See bench/README.md. Prints one table at the end.
#
# Settings (environment):
#   PG_URL       PostgreSQL server, a role that may create databases
#                (default postgres://postgres@127.0.0.1:5432); the database
#                practika_bench is dropped and made again
#   BACKENDS     "postgres sqlite" (default), or one of them
#   USERS EXERCISES COMMENTS   seed-demo scale (2000 5000 200000)
#   ROUNDS       alternating rounds per page (4), DURATION seconds each (10)
#   CONNECTIONS  wrk connections (64), THREADS wrk threads (2)
#   SOAK_CONNECTIONS SOAK_SECONDS   the library soak (256, 60; 0 seconds skips it)
#   MEDIA_MB     size of the media file for the Range test (200)
#   KEEP=1       keep the work folder (databases, logs, wrk output)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
BACKENDS=${BACKENDS:-postgres sqlite}
USERS=${USERS:-2000}
EXERCISES=${EXERCISES:-5000}
COMMENTS=${COMMENTS:-200000}
ROUNDS=${ROUNDS:-4}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
SOAK_CONNECTIONS=${SOAK_CONNECTIONS:-256}
SOAK_SECONDS=${SOAK_SECONDS:-60}
MEDIA_MB=${MEDIA_MB:-200}
PRACTIKA_PORT=${PRACTIKA_PORT:-8300}
BARE_PORT=${BARE_PORT:-8301}
NGINX_PORT=${NGINX_PORT:-8302}
ACCEL_PORT=${ACCEL_PORT:-8303}
ACCEL_NGINX_PORT=${ACCEL_NGINX_PORT:-8304}
PASSWORD=practika-demo

WORK=$(mktemp -d /tmp/practika-bench.XXXXXX)
chmod 755 "$WORK"
RESULTS="$WORK/results.tsv"
: >"$RESULTS"
PIDS=()

cleanup() {
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [ "${KEEP:-0}" = 1 ]; then
        echo "work folder kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*" >&2; }

need() {
    command -v "$1" >/dev/null 2>&1 && return
    if command -v apt-get >/dev/null 2>&1; then
        say "installing $2"
        local sudo=""
        [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo apt-get install -y "$2" >&2
    else
        echo "$1 is missing: install $2" >&2
        exit 1
    fi
}
need wrk wrk
need nginx nginx-light
need ffmpeg ffmpeg
need curl curl
case " $BACKENDS " in *" postgres "*) need psql postgresql-client ;; esac
case " $BACKENDS " in *" sqlite "*) need sqlite3 sqlite3 ;; esac

# Both builds go to one target folder (CARGO_TARGET_DIR, else ./target).
# The bare server used to build alone in bench/target: from scratch on a
# fresh checkout, vendored OpenSSL, libpq and SQLite included, minutes of
# C compiling (perl, make, cc: no rustc) behind --quiet, which looked like
# a hang. In Practika's folder it can reuse those builds (same versions,
# features and release profile in both lock files). Cargo's output stays
# on, so a wait for another cargo's lock on the folder or the package
# cache shows ("Blocking waiting for file lock"), and every 30 s the
# script says what the build is running.
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
descendants() {
    local child
    for child in $(pgrep -P "$1" 2>/dev/null); do
        echo "$child"
        descendants "$child"
    done
}
build() {
    local what=$1 dir=$2 started=$SECONDS pid
    say "building $what (release, $TARGET)"
    (cd "$dir" && CARGO_TARGET_DIR="$TARGET" exec cargo build --release --locked) &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        if (((SECONDS - started) % 30 == 0)); then
            local running
            # A process may end between the two looks (ps then fails): no matter.
            running=$(descendants "$pid" | xargs -r -I{} ps -o comm= -p {} 2>/dev/null | sort | uniq -c | tr -s ' \n' ' ' || true)
            echo "  still building $what after $((SECONDS - started)) s; running:${running:- nothing}" >&2
        fi
    done
    wait "$pid" || { echo "building $what failed" >&2; exit 1; }
    echo "built $what in $((SECONDS - started)) s" >&2
}
build Practika "$ROOT"
PRACTIKA="$TARGET/release/practika"
build "the bare server" "$HERE"
BARE="$TARGET/release/practika-bench-bare"

wait_for() {
    for _ in $(seq 1 200); do
        curl -fs -o /dev/null "$1" && return 0
        sleep 0.1
    done
    echo "no answer from $1" >&2
    exit 1
}

stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# Milliseconds from wrk's "1.23ms" / "456.00us" / "1.02s".
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n = n / 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n = n * 60000; else if (v ~ /s$/) n = n * 1000
        printf "%.2f", n }'
}

# wrk against one URL; appends "backend page server rps p50 p99 errors" to $RESULTS.
measure() {
    local backend=$1 page=$2 server=$3 url=$4 connections=$5 seconds=$6
    shift 6
    local out="$WORK/wrk-$backend-$page-$server-$(date +%s%N).txt"
    wrk -t"$THREADS" -c"$connections" -d"${seconds}s" --latency "$@" "$url" >"$out" 2>&1 || true
    local rps p50 p99 errors
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
    errors=$(awk '/Non-2xx or 3xx responses:/ {n += $NF} /Socket errors:/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$out")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$backend" "$page" "$server" "${rps:-0}" "$p50" "$p99" "$errors" >>"$RESULTS"
    printf '  %-8s %-18s %-8s %10s req/s  p50 %8s ms  p99 %8s ms  errors %s\n' \
        "$backend" "$page" "$server" "${rps:-0}" "$p50" "$p99" "$errors" >&2
}

# Logs in as the demo student; prints the Cookie header value.
login() {
    local base=$1 jar="$WORK/cookies-$RANDOM.txt" token
    token=$(curl -fs -c "$jar" "$base/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n1)
    local status
    status=$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" -c "$jar" \
        --data-urlencode "csrf_token=$token" --data-urlencode "username=$STUDENT" \
        --data-urlencode "password=$PASSWORD" "$base/login")
    if [ "$status" != 303 ]; then
        echo "login as $STUDENT failed (HTTP $status)" >&2
        exit 1
    fi
    # The page after the login shows "You are logged in as …" once, as a
    # browser sees it. wrk never stores a cookie it is sent, so with the
    # login's own cookie every measured request would show that message
    # again and answer with a new session cookie.
    curl -fs -o /dev/null -b "$jar" -c "$jar" "$base/"
    awk '!/^#/ || /^#HttpOnly_/ { if (NF >= 7) printf "%s%s=%s", (n++ ? "; " : ""), $6, $7 }' "$jar"
}

for backend in $BACKENDS; do
    DATA="$WORK/$backend"
    mkdir -p "$DATA"
    chmod 755 "$DATA"
    if [ "$backend" = postgres ]; then
        psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS practika_bench WITH (FORCE)" -c "CREATE DATABASE practika_bench"
        DB="$PG_URL/practika_bench"
        sql() { psql -qAt "$DB" -c "$1"; }
    else
        DB="sqlite://$DATA/practika.db"
        sql() { sqlite3 "$DATA/practika.db" "$1"; }
    fi
    export DATABASE_URL="$DB" PRACTIKA_DATA_DIR="$DATA" RUST_LOG=${RUST_LOG:-warn}
    export PRACTIKA_SECRET_KEY="bench-secret-key-$(date +%s)-0123456789abcdefghij"
    export PRACTIKA_BIND="127.0.0.1:$PRACTIKA_PORT" PRACTIKA_PUBLIC_URL="http://127.0.0.1:$PRACTIKA_PORT"

    say "$backend: seed-demo --users $USERS --exercises $EXERCISES --comments $COMMENTS"
    "$PRACTIKA" seed-demo --users "$USERS" --exercises "$EXERCISES" --comments "$COMMENTS" | tee "$WORK/seed-$backend.txt" >&2
    STUDENT=$(sed -n 's/.* or \([^ ,]*\), password.*/\1/p' "$WORK/seed-$backend.txt")
    EXERCISE=$(sed -n 's|^exercise with [0-9]* comments: ||p' "$WORK/seed-$backend.txt")
    VIDEO=$(sed -n 's|^video: ||p' "$WORK/seed-$backend.txt")
    SEEDED=$(sed -n 's/.* in \([0-9.]*\) s (.*/\1/p' "$WORK/seed-$backend.txt")
    printf '%s\tseed\t-\t%s\t\t\t\n' "$backend" "$SEEDED" >>"$RESULTS"
    if [ "$backend" = postgres ]; then sql "VACUUM ANALYZE" >/dev/null; else sql "ANALYZE" >/dev/null; fi

    "$PRACTIKA" serve >"$WORK/practika-$backend.log" 2>&1 &
    PRACTIKA_PID=$!
    PIDS+=("$PRACTIKA_PID")
    DATABASE_URL="$DB" BIND="127.0.0.1:$BARE_PORT" "$BARE" >"$WORK/bare-$backend.log" 2>&1 &
    BARE_PID=$!
    PIDS+=("$BARE_PID")
    wait_for "http://127.0.0.1:$PRACTIKA_PORT/healthz"
    wait_for "http://127.0.0.1:$BARE_PORT/login"
    COOKIE=$(login "http://127.0.0.1:$PRACTIKA_PORT")

    # Page 100 as Practika links to it: the cursor after the 1,980th exercise.
    if [ "$backend" = postgres ]; then
        CURSOR=$(sql "SELECT (extract(epoch FROM created_at) * 1000000)::bigint || '_' || id FROM exercises_exercise
                      ORDER BY created_at DESC, id DESC OFFSET 1979 LIMIT 1")
    else
        CURSOR=$(sql "SELECT (CAST(strftime('%s', substr(created_at, 1, 19)) AS INTEGER) * 1000000
                              + CAST(substr(created_at, 21, 6) AS INTEGER)) || '_' || id FROM exercises_exercise
                      ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET 1979")
    fi
    # name, Practika's path, the bare server's path
    PAGES=("library-1 /exercises /exercises" "library-100 /exercises?page=100 /exercises?page=100"
        "library-100-seek /exercises?after=$CURSOR /exercises?page=100"
        "exercise-100 $EXERCISE $EXERCISE" "video $VIDEO $VIDEO" "login /login /login")
    # The login form is measured as a visitor sees it (a logged-in user is sent on).
    cookie_for() { if [ "$1" = login ]; then echo "X-Visitor: 1"; else echo "Cookie: $COOKIE"; fi; }
    for page in "${PAGES[@]}"; do
        read -r name ppath bpath <<<"$page"
        for server in practika bare; do
            port=$PRACTIKA_PORT path=$ppath
            [ $server = bare ] && port=$BARE_PORT path=$bpath
            code=$(curl -s -o /dev/null -w '%{http_code}' -H "$(cookie_for "$name")" "http://127.0.0.1:$port$path")
            [ "$code" = 200 ] || { echo "$server $path answers $code" >&2; exit 1; }
        done
    done
    say "$backend: $ROUNDS rounds of ${DURATION}s, $CONNECTIONS connections, alternating Practika and bare"
    for round in $(seq 1 "$ROUNDS"); do
        for page in "${PAGES[@]}"; do
            read -r name ppath bpath <<<"$page"
            measure "$backend" "$name" practika "http://127.0.0.1:$PRACTIKA_PORT$ppath" "$CONNECTIONS" "$DURATION" \
                -H "$(cookie_for "$name")"
            measure "$backend" "$name" bare "http://127.0.0.1:$BARE_PORT$bpath" "$CONNECTIONS" "$DURATION"
        done
    done
    if [ "$SOAK_SECONDS" -gt 0 ]; then
        say "$backend: library, $SOAK_CONNECTIONS connections for ${SOAK_SECONDS}s"
        measure "$backend" soak-library practika "http://127.0.0.1:$PRACTIKA_PORT/exercises" \
            "$SOAK_CONNECTIONS" "$SOAK_SECONDS" -H "Cookie: $COOKIE"
    fi

    if [ "$backend" = "$(echo $BACKENDS | awk '{print $1}')" ] && [ "$MEDIA_MB" -gt 0 ]; then
        say "media: ${MEDIA_MB} MB, Range from the middle, Practika against nginx sendfile"
        mkdir -p "$DATA/media/bench"
        dd if=/dev/urandom of="$DATA/media/bench/big.mp4" bs=1M count="$MEDIA_MB" status=none
        chmod -R a+rX "$DATA/media"
        half=$((MEDIA_MB * 1024 * 1024 / 2))
        # The video's id as the backend stores it (SQLite: 32 hex digits).
        video_key() { local id=${VIDEO##*/}; if [ "$backend" = sqlite ]; then echo "${id//-/}"; else echo "$id"; fi; }
        sql "UPDATE core_videoasset SET storage_path = 'bench/big.mp4', size_bytes = $((MEDIA_MB * 1024 * 1024)) WHERE id = '$(video_key)'" >/dev/null
        mkdir -p "$WORK/nginx"
        cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    types { video/mp4 mp4; }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $DATA/media;
    }
    # Practika behind nginx with PRACTIKA_MEDIA_ACCEL_PREFIX: Practika checks
    # access and answers X-Accel-Redirect, nginx sends the bytes.
    server {
        listen 127.0.0.1:$ACCEL_NGINX_PORT;
        location / {
            proxy_pass http://127.0.0.1:$ACCEL_PORT;
            proxy_set_header Host \$host;
        }
        location /media-internal/ {
            internal;
            alias $DATA/media/;
        }
    }
}
EOF
        PRACTIKA_BIND="127.0.0.1:$ACCEL_PORT" PRACTIKA_MEDIA_ACCEL_PREFIX=/media-internal \
            "$PRACTIKA" serve >"$WORK/practika-accel-$backend.log" 2>&1 &
        ACCEL_PID=$!
        PIDS+=("$ACCEL_PID")
        nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" >"$WORK/nginx/out.log" 2>&1 &
        NGINX_PID=$!
        PIDS+=("$NGINX_PID")
        wait_for "http://127.0.0.1:$NGINX_PORT/bench/big.mp4"
        wait_for "http://127.0.0.1:$ACCEL_PORT/healthz"
        for round in $(seq 1 "$ROUNDS"); do
            measure media range-half practika "http://127.0.0.1:$PRACTIKA_PORT$VIDEO/media/original" 8 "$DURATION" \
                -H "Cookie: $COOKIE" -H "Range: bytes=$half-"
            measure media range-half nginx "http://127.0.0.1:$NGINX_PORT/bench/big.mp4" 8 "$DURATION" -H "Range: bytes=$half-"
            measure media range-half-x-accel practika "http://127.0.0.1:$ACCEL_NGINX_PORT$VIDEO/media/original" 8 "$DURATION" \
                -H "Cookie: $COOKIE" -H "Range: bytes=$half-"
            measure media range-half-x-accel nginx "http://127.0.0.1:$NGINX_PORT/bench/big.mp4" 8 "$DURATION" -H "Range: bytes=$half-"
        done
        stop "$NGINX_PID"
        stop "$ACCEL_PID"
    fi
    stop "$PRACTIKA_PID"
    stop "$BARE_PID"
done

# The table: medians over the rounds.
say "results (median of $ROUNDS rounds; $CONNECTIONS connections, ${DURATION}s each; $USERS users, $EXERCISES exercises, $COMMENTS comments)"
awk -F'\t' '
function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    if (n == 0) return 0
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
$2 == "seed" { seed[$1] = $4; next }
{
    key = $1 SUBSEP $2
    if (!(key in seen)) { seen[key] = 1; order[++count] = key }
    rps[key, $3] = rps[key, $3] " " $4; p50[key, $3] = p50[key, $3] " " $5; p99[key, $3] = p99[key, $3] " " $6
    err[key, $3] += $7
    if ($3 != "practika") other[key] = $3
}
END {
    for (b in seed) printf "seed-demo on %s: %s s\n", b, seed[b]
    printf "\n| backend | page | Practika req/s | p50 ms | p99 ms | %-5s req/s | p50 ms | p99 ms | ratio | errors |\n", "other"
    printf "|---|---|---|---|---|---|---|---|---|---|\n"
    for (i = 1; i <= count; i++) {
        key = order[i]; split(key, k, SUBSEP); o = other[key]
        pr = median(rps[key, "practika"])
        if (o != "") {
            br = median(rps[key, o])
            printf "| %s | %s | %.0f | %.2f | %.2f | %.0f (%s) | %.2f | %.2f | %.2f | %d |\n", k[1], k[2], pr, median(p50[key, "practika"]), median(p99[key, "practika"]), br, o, median(p50[key, o]), median(p99[key, o]), (br > 0 ? pr / br : 0), err[key, "practika"] + err[key, o]
        } else {
            printf "| %s | %s | %.0f | %.2f | %.2f | - | - | - | - | %d |\n", k[1], k[2], pr, median(p50[key, "practika"]), median(p99[key, "practika"]), err[key, "practika"]
        }
    }
}' "$RESULTS"
