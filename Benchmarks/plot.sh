#!/usr/bin/env bash
# Renders Benchmarks/results/*.json as charts under docs/benchmarks/ (Benchmarks/plot.py), with matplotlib
# installed from PyPI into .data/plot-venv on first use.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.data/plot-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import matplotlib" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q matplotlib
fi
"$venv/bin/python" "$root/Benchmarks/plot.py"
