#!/usr/bin/env bash
# Pipelined reads of cold values, two thermocline-server binaries interleaved (for example
# before and after a change): a hybrid server with maxmemory 17mb holding 40,000 values of
# 4 KiB (about 10% of them fit), then thermocline-bench GET runs with uniform and zipfian keys.
#
# Usage: scripts/bench-pipeline-cold.sh OLD_SERVER NEW_SERVER [ROUNDS] [DATA_DIR]
# thermocline-bench is $CARGO_TARGET_DIR/release/thermocline-bench (cargo build --release
# -p thermocline-bench). Each server runs on 127.0.0.1:7990 and is shut down after its round.
set -euo pipefail
old=$1 new=$2 rounds=${3:-2} data=${4:-$(mktemp -d)}
bench="${CARGO_TARGET_DIR:-$HOME/.cache/thermocline/target}/release/thermocline-bench"
port=7990
for round in $(seq "$rounds"); do
    for which in old new; do
        binary=$old
        [[ $which == new ]] && binary=$new
        rm -rf "$data/pipeline-cold" && mkdir -p "$data/pipeline-cold"
        "$binary" --port $port --bind 127.0.0.1 --dir "$data/pipeline-cold" --loglevel warning \
            --maxmemory 17mb >/dev/null 2>&1 &
        sleep 1
        "$bench" run -t 127.0.0.1:$port --load --keys 40000 --value-size 4k -n 1 --warmup 0 >/dev/null
        sleep 2
        for spec in "uniform 16" "zipfian:0.99 16" "zipfian:0.99 1"; do
            read -r dist pipeline <<<"$spec"
            line=$("$bench" run -t 127.0.0.1:$port --keys 40000 --value-size 4k \
                --distribution "$dist" -P "$pipeline" -d 4 --warmup 1 | grep " all ")
            echo "round $round $which $dist P$pipeline: $line"
        done
        redis-cli -p $port shutdown nosave >/dev/null 2>&1 || true
        sleep 1
    done
done
rm -rf "$data/pipeline-cold"
