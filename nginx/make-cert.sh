#!/usr/bin/env bash
# Makes a self-signed certificate for local use in nginx/tls/ (ignored by git): localhost, 127.0.0.1 and ::1,
# valid for 825 days. Browsers will warn about it; for production, put a real certificate in the same place.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p tls
if [ -s tls/herald.crt ] && [ -s tls/herald.key ] && [ "${1:-}" != "--force" ]; then
    echo "nginx/tls/herald.crt exists (pass --force to replace it)"
    exit 0
fi
command -v openssl >/dev/null || { apt-get update -qq && apt-get install -y -qq openssl >/dev/null; }
openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
    -keyout tls/herald.key -out tls/herald.crt 2>/dev/null
chmod 600 tls/herald.key
echo "made nginx/tls/herald.crt"
