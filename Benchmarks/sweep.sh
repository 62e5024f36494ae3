#!/usr/bin/env bash
# How cost grows with the audience: fan-out p50/p99 and idle memory per socket at 1,000, 5,000, 10,000 and
# 19,000 sockets, for Herald (HERALD_BIN, LABEL as in bench.sh; default: this checkout as `current`) and the
# baseline, one right after the other at each size; then the REST inbox (list, unread page, count, mark-read at
# 2 connections) for a user with 1,000, 100,000 and 1,000,000 notifications (Herald only: the baseline has no
# inbox). Writes Benchmarks/results/<scenario>-<size>-<target>.json, which Benchmarks/plot.sh draws as
# docs/benchmarks/sweeps.png. About 25 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
label="${LABEL:-current}"
for size in ${SIZES:-1000 5000 10000 19000}; do
    for scenario in fanout idle; do
        SIZE=$size LABEL=$label Benchmarks/bench.sh "$scenario" herald >/dev/null
        SIZE=$size Benchmarks/bench.sh "$scenario" baseline >/dev/null
        echo "$scenario at $size: done"
    done
done
for size in ${INBOX_SIZES:-1000 100000 1000000}; do
    SIZE=$size LABEL=$label Benchmarks/bench.sh rest herald >/dev/null
    echo "rest at an inbox of $size: done"
done
