#!/usr/bin/env bash
# Runs both libFuzzer targets for a bounded number of inputs (issue 5). Each starts from the committed corpus in
# Tests/Fuzz/corpus/<target>; what it learns goes to .data/fuzz/. A crashing input is copied into the committed
# corpus, where FuzzCorpusTests replays it on every `make test`, and the run fails.
#   HERALD_FUZZ=1 swift build --product herald-fuzz-frames --product ...   (or: make fuzz)
# FUZZ_BUILD=release runs release builds of the targets (HERALD_FUZZ=1 swift build -c release ...), several times
# faster for a deep campaign; FUZZ_RUNS_FRAMES and FUZZ_RUNS_TOKENS set the number of inputs.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
runs_frames="${FUZZ_RUNS_FRAMES:-100000}"
runs_tokens="${FUZZ_RUNS_TOKENS:-20000}"
status=0
for spec in "frames:$runs_frames:8192" "tokens:$runs_tokens:9000"; do
    IFS=: read -r name runs max_len <<<"$spec"
    work="$root/.data/fuzz/$name"
    crashes="$root/.data/fuzz/crashes"
    mkdir -p "$work" "$crashes"
    echo "fuzzing $name: $runs inputs"
    if ! "$root/.build/${FUZZ_BUILD:-debug}/herald-fuzz-$name" -runs="$runs" -max_len="$max_len" -rss_limit_mb=4096 \
        -artifact_prefix="$crashes/$name-" -print_final_stats=1 "$work" "$root/Tests/Fuzz/corpus/$name" \
        >"$root/.data/fuzz/$name.log" 2>&1; then
        status=1
        echo "herald-fuzz-$name found a failure:"
        grep -E "ERROR|panic|Fatal|SUMMARY" "$root/.data/fuzz/$name.log" | head -5
        for crash in "$crashes/$name-"*; do
            [ -e "$crash" ] || continue
            cp "$crash" "$root/Tests/Fuzz/corpus/$name/regression-$(basename "$crash")"
            echo "saved as Tests/Fuzz/corpus/$name/regression-$(basename "$crash"): commit it; make test replays it"
        done
    fi
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|DONE" "$root/.data/fuzz/$name.log" | tr '\n' ' '
    echo
done
exit $status
