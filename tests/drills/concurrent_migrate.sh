#!/usr/bin/env bash
# Item 13: two nodes starting at once on a fresh PostgreSQL database. Both
# `practika migrate` calls must succeed (one migrates, the other waits for
# the advisory lock), five times in a row.
source "$(dirname "$0")/_lib.bash"

for round in 1 2 3 4 5; do
    fresh_pg_database url
    for n in 1 2; do
        env $(node_env "$WORK/node$n") DATABASE_URL="$url" "$PRACTIKA" migrate >"$WORK/migrate-$round-$n.log" 2>&1 &
        eval "pid$n=$!"
    done
    # shellcheck disable=SC2154
    wait "$pid1" || fail "round $round: the first migrate failed"
    wait "$pid2" || fail "round $round: the second migrate failed"
    applied=$(psql -tA -d "$url" -c "SELECT count(*) FROM __diesel_schema_migrations")
    [[ $applied -ge 9 ]] || fail "round $round: only $applied migrations recorded"
done
say "ok: 5 rounds of two concurrent migrations on fresh databases"
