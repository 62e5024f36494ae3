#!/usr/bin/env bash
# One command per scenario of issue 6. Builds Herald and herald-bench in release, starts PostgreSQL (as `make run`
# does), the server(s) under test, runs the scenario and writes Benchmarks/results/<scenario>-<target>.json.
#   Benchmarks/bench.sh idle|fanout|throughput|throughput-1k|throughput-deflate|latency|latency-bulk|rest|rest-skewed|cluster|soak [herald|baseline]
# HERALD_BIN and HERALD_ROOT run another build of Herald (its binary and its Migrations/) under the label
# LABEL, for an A/B against it in the same run: HERALD_ROOT=/path/to/checkout LABEL=main Benchmarks/bench.sh rest
set -euo pipefail
scenario="${1:?scenario}"
target="${2:-herald}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
secret="bench-secret-0123456789abcdef-0123456789"
pg_port="${HERALD_PG_PORT:-5433}"
results="$root/Benchmarks/results"
mkdir -p "$results" "$root/.data/bench"
herald_root="${HERALD_ROOT:-$root}"
herald="${HERALD_BIN:-$herald_root/.build/release/herald}"
label="${LABEL:-$target}"
# A given HERALD_BIN is run as it is; otherwise the checkout's release build is brought up to date.
[ -n "${HERALD_BIN:-}" ] || (cd "$herald_root" && swift build -c release --product herald >/dev/null)
(cd Benchmarks && swift build -c release >/dev/null)
# The REST scenarios drive wrk, from Debian's packages.
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
bench="$root/Benchmarks/.build/release/herald-bench"
HERALD_PG_PORT=$pg_port .ci/postgres.sh herald >/dev/null
ulimit -n 20000

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# Starts one instance on port $1, on a fresh database unless $2 says to keep it.
start_herald() {
    local port=$1
    DATABASE_URL="postgres://herald@127.0.0.1:$pg_port/herald_bench" JWT_SECRET=$secret PORT=$port \
        INSTANCE_ID="bench-$port" LOG_LEVEL=warning WS_CONNECT_RATE=0 WS_MAX_CONNECTIONS_PER_USER=5 \
        "$herald" serve >>"$root/.data/bench/herald-$port.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && return; sleep 0.1; done
    echo "herald on $port did not become ready"; exit 1
}

fresh_database() {
    psql -h 127.0.0.1 -p "$pg_port" -U herald -d postgres -qc "DROP DATABASE IF EXISTS herald_bench WITH (FORCE)" \
        -c "CREATE DATABASE herald_bench" >/dev/null
    local output
    output=$(DATABASE_URL="postgres://herald@127.0.0.1:$pg_port/herald_bench" MIGRATIONS_DIR="$herald_root/Migrations" \
        "$herald" migrate 2>&1) || { echo "$output"; exit 1; }
}

ports=(--port 8200)
if [ "$target" = baseline ]; then
    "$bench" baseline-server --port 8200 >"$root/.data/bench/baseline.log" 2>&1 &
    pids+=($!)
    sleep 1
else
    fresh_database
    if [ "$scenario" = rest ]; then
        echo "seeding the inbox and a million other notifications (about a minute)"
        psql -h 127.0.0.1 -p "$pg_port" -U herald -d herald_bench -v ON_ERROR_STOP=1 -v inbox_size="${SIZE:-1000000}" \
            -qf Benchmarks/seed.sql
    fi
    if [ "$scenario" = rest-skewed ]; then
        echo "seeding the one-location shape: 1M notifications at one location"
        psql -h 127.0.0.1 -p "$pg_port" -U herald -d herald_bench -v ON_ERROR_STOP=1 -qf Benchmarks/seed-skewed.sql
    fi
    if [ "$scenario" = cluster ]; then
        ports=()
        for port in 8201 8202 8203 8204; do start_herald $port; ports+=(--port $port); done
    else
        start_herald 8200
    fi
fi
pid=${pids[0]}
# SIZE runs one point of a sweep (that many sockets; for rest, that many notifications in the user's inbox),
# written as <scenario>-<size>-<label>.json (Benchmarks/sweep.sh).
if [ -n "${SIZE:-}" ]; then SOCKETS=$SIZE; out="$results/$scenario-$SIZE-$label.json"; else out="$results/$scenario-$label.json"; fi
common=("${ports[@]}" --secret "$secret" --server-pid "$pid" --target "$label" --output "$out")
case "$scenario" in
    idle) "$bench" idle "${common[@]}" --sockets "${SOCKETS:-10000}" ;;
    fanout) "$bench" fanout "${common[@]}" --sockets "${SOCKETS:-10000}" --rounds "${ROUNDS:-50}" ;;
    throughput) "$bench" throughput "${common[@]}" --sockets "${SOCKETS:-10000}" --seconds "${SECONDS_:-10}" ;;
    # The same with 1 KB of message text per notification, plain and with permessage-deflate (Herald only).
    throughput-1k)
        "$bench" throughput "${common[@]}" --scenario throughput-1k --sockets "${SOCKETS:-10000}" \
            --seconds "${SECONDS_:-10}" --message-bytes 1000 ;;
    throughput-deflate)
        "$bench" throughput "${common[@]}" --scenario throughput-deflate --sockets "${SOCKETS:-10000}" \
            --seconds "${SECONDS_:-10}" --message-bytes 1000 --deflate ;;
    latency) "$bench" latency "${common[@]}" --rate "${RATE:-1000}" --seconds "${SECONDS_:-10}" ;;
    latency-bulk)
        "$bench" latency "${common[@]}" --scenario latency-bulk --rate "${RATE:-1000}" --seconds "${SECONDS_:-10}" \
            --bulk-users 1000 --bulk-data-bytes 30000 ;;
    # With SIZE, one point of the sweep by inbox size: that many notifications for the user, 2 connections.
    rest) "$bench" rest "${common[@]}" --seconds "${SECONDS_:-10}" ${SIZE:+--inbox-size $SIZE --max-id $SIZE --connections 2} ;;
    rest-skewed)
        "$bench" rest "${common[@]}" --scenario rest-skewed --seconds "${SECONDS_:-10}" --user member-1 \
            --location shop ;;
    soak)
        "$bench" soak "${common[@]}" --sockets "${SOCKETS:-10000}" --minutes "${MINUTES:-10}" --rate "${RATE:-500}" --churn "${CHURN:-0.05}" ;;
    cluster)
        "$bench" fanout "${common[@]}" --sockets "${SOCKETS:-76000}" --rounds "${ROUNDS:-20}" --output "$results/cluster-location-$label.json"
        "$bench" fanout "${common[@]}" --sockets "${SOCKETS:-76000}" --rounds "${ROUNDS:-20}" --audience broadcast --output "$results/cluster-broadcast-$label.json" ;;
    *) echo "unknown scenario $scenario"; exit 2 ;;
esac
