#!/usr/bin/env bash
# Runs the shipped nginx configuration from this folder: installs nginx if it is missing, makes a self-signed
# certificate if there is none, and starts nginx with its pid, logs and temp files under .data/nginx/.
#   nginx/run.sh          start (or reload, if running)
#   nginx/run.sh stop     stop
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
prefix="$here/../.data/nginx"
mkdir -p "$prefix"/{run,logs,tmp}
prefix="$(cd "$prefix" && pwd)"
pidfile="$prefix/run/nginx.pid"

if [ "${1:-}" = "stop" ]; then
    if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        nginx -p "$prefix/" -c "$here/nginx.conf" -e "$prefix/logs/error.log" -s quit
        for _ in $(seq 50); do [ -s "$pidfile" ] || break; sleep 0.1; done
    fi
    exit 0
fi

if ! command -v nginx >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
fi
# Debian's package may start its own nginx on port 80; this one needs the port.
if [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
    echo "stopping the system nginx (pid $(cat /run/nginx.pid)), which holds port 80"
    nginx -s quit 2>/dev/null || kill "$(cat /run/nginx.pid)"
    sleep 0.5
fi
"$here/make-cert.sh" >/dev/null
nginx -t -q -p "$prefix/" -c "$here/nginx.conf" -e "$prefix/logs/error.log"
if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    nginx -p "$prefix/" -c "$here/nginx.conf" -e "$prefix/logs/error.log" -s reload
    echo "nginx reloaded"
else
    nginx -p "$prefix/" -c "$here/nginx.conf" -e "$prefix/logs/error.log"
    echo "nginx on https://localhost/ (instances expected on 127.0.0.1:8001 and :8002); logs in .data/nginx/logs"
fi
