#!/usr/bin/env bash
# Serve the embedded default: one ASGI process (HTTP + WebSocket) and one task worker.
set -euo pipefail
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
PY=.venv/bin/python

# The server refuses to start without a secret key when DEBUG is off: make one on first use.
$PY manage.py ensure_secret_key

$PY manage.py worker --single --interval 0.2 &
worker=$!
trap 'kill $worker 2>/dev/null || true; wait $worker 2>/dev/null || true' EXIT INT TERM

echo
echo "  SpineLabel is running on http://$HOST:$PORT/  (Ctrl-C stops the server and the worker)"
echo
.venv/bin/uvicorn config.asgi:application --host "$HOST" --port "$PORT" --lifespan on --no-access-log --ws-ping-interval 20
