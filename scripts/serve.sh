#!/usr/bin/env bash
# Serves the demo: the web app on :8000 and a Huey worker, stopped together with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

$PY manage.py run_huey -w 2 -k thread &
pids+=($!)
echo
echo "  Demo operator:  http://demo.localhost:8000/"
echo "  Platform page:  http://localhost:8000/"
echo
$PY manage.py runserver 0.0.0.0:8000 &
pids+=($!)
wait -n "${pids[@]}"
