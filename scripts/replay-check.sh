#!/usr/bin/env bash
# Replays Redis's own test units through the binlog: for each unit, starts thermocline-server
# with appendonly yes and appendfsync always, runs the unit against it (Redis 7.2's Tcl suite,
# no skip lists: a unit may abort on a command Thermocline lacks, which only shortens it), then
# SIGKILLs the server, restarts it on the same directory and compares DEBUG DIGEST before and
# after. A difference means the binlog did not reproduce the dataset the unit left.
#
# Needs REDIS_TESTS (a Redis 7.2 source tree), tclsh, redis-cli and a `cargo build --tests`
# binary. Usage: REDIS_TESTS=~/src/redis-7.2.4 scripts/replay-check.sh unit/type/hash ...
# SERVER_ARGS adds options to both starts, e.g. SERVER_ARGS="--checkpoint-interval 1" to take
# a checkpoint every second during the unit, so that the restart rebuilds from a checkpoint
# and replays only the binlog after it.
set -uo pipefail

: "${REDIS_TESTS:?set REDIS_TESTS to a Redis 7.2 source tree}"
TARGET="${CARGO_TARGET_DIR:-$HOME/.cache/thermocline/target}"
SERVER=$TARGET/debug/thermocline-server
PORT=7300
status=0

cli() { redis-cli -p "$PORT" "$@"; }
wait_ready() {
    for _ in $(seq 1 300); do
        if cli ping 2>/dev/null | grep -q PONG; then return 0; fi
        sleep 0.1
    done
    return 1
}

for unit in "$@"; do
    dir=$(mktemp -d "${TMPDIR:-/tmp}/thermocline-replay.XXXXXX")
    # shellcheck disable=SC2086 # SERVER_ARGS is a list of options
    "$SERVER" --port "$PORT" --bind 127.0.0.1 --dir "$dir" --appendonly yes \
        --appendfsync always ${SERVER_ARGS:-} >"$dir/first.log" 2>&1 &
    pid=$!
    wait_ready || { echo "$unit: server did not start" >&2; kill -9 "$pid"; exit 1; }
    (cd "$REDIS_TESTS" && timeout 900 tclsh tests/test_helper.tcl --host 127.0.0.1 \
        --port "$PORT" --baseport 7340 --portcount 8 --clients 1 --tags -needs:repl \
        --single "$unit" >"$dir/unit.log" 2>&1)
    ok=$(sed 's/\x1b\[[0-9;]*m//g' "$dir/unit.log" | grep -c '^\[ok\]')
    # No key may expire between the two digests.
    cli debug set-active-expire 0 >/dev/null
    before=$(cli debug digest)
    records=$(cli info persistence | tr -d '\r' | sed -n 's/^binlog_records://p')
    checkpoints=$(cli info persistence | tr -d '\r' | sed -n 's/^checkpoints://p')
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
    # shellcheck disable=SC2086
    "$SERVER" --port "$PORT" --bind 127.0.0.1 --dir "$dir" --appendonly yes ${SERVER_ARGS:-} \
        >"$dir/second.log" 2>&1 &
    pid=$!
    wait_ready || { echo "$unit: restart failed (see $dir/second.log)" >&2; kill -9 "$pid"; exit 1; }
    cli debug set-active-expire 0 >/dev/null
    after=$(cli debug digest)
    if [[ "$before" == "$after" ]]; then
        echo "$unit: $ok tests ran, $records binlog records, $checkpoints checkpoints, digest the same after SIGKILL and replay"
        rm -rf "$dir"
    else
        echo "$unit: DIGEST DIFFERS after replay ($before vs $after); logs in $dir"
        status=1
    fi
    cli shutdown nosave >/dev/null 2>&1
    wait "$pid" 2>/dev/null
done
exit $status
