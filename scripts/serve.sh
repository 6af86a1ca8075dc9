#!/usr/bin/env bash
# Serves the demo: moto (AWS), the payment provider emulators, the web app on :8000 and a
# Huey worker, all stopped together with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${DEMO_PORT:-8000}"
mkdir -p var/log
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

wait_for() {  # url, name
  for _ in $(seq 100); do curl -fsS -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "$2 did not start; see var/log/" >&2; exit 1
}

export DJANGO_DEBUG="${DJANGO_DEBUG:-1}" DEMO_PORT="$PORT"
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:5055 AWS_ENDPOINT_URL_SES=http://127.0.0.1:5055
export STRIPE_API_BASE=http://127.0.0.1:12111 MERCADOPAGO_API_BASE=http://127.0.0.1:12112

.venv/bin/moto_server -H 127.0.0.1 -p 5055 >var/log/moto.log 2>&1 &
pids+=($!)
$PY -m emulators --stripe-port 12111 --mercadopago-port 12112 \
  --stripe-public-url http://localhost:12111 --mercadopago-public-url http://localhost:12112 \
  >var/log/emulators.log 2>&1 &
pids+=($!)
$PY -m emulators.oidc --port 8055 --site "http://demo.localhost:$PORT" \
  --site "http://demo-br.localhost:$PORT" >var/log/oidc.env 2>var/log/oidc.log &
pids+=($!)
wait_for http://127.0.0.1:5055/moto-api/ moto
wait_for http://127.0.0.1:12111/_emulator/health "the Stripe emulator"
wait_for http://127.0.0.1:12112/_emulator/health "the Mercado Pago emulator"
for _ in $(seq 600); do grep -q OIDC_RP_CLIENT_ID var/log/oidc.env 2>/dev/null && break; sleep 0.1; done
grep -q OIDC_RP_CLIENT_ID var/log/oidc.env || { echo "the OIDC provider did not start; see var/log/oidc.log" >&2; exit 1; }
# shellcheck disable=SC1091
source var/log/oidc.env

$PY manage.py seed_demo
$PY scripts/demo_payments.py

$PY manage.py run_huey -w 2 -k thread >var/log/huey.log 2>&1 &
pids+=($!)
echo
echo "  Demo operator (ARS):  http://demo.localhost:$PORT/"
echo "  Demo operator (BRL):  http://demo-br.localhost:$PORT/   (Pix)"
echo "  Backoffice:           http://demo.localhost:$PORT/backoffice/"
echo "                        sign in as demo-owner, demo-manager or demo-agent (any password)"
echo "  Platform page:        http://localhost:$PORT/"
echo "  Logs:                 var/log/ (confirmation e-mails print to this terminal)"
echo
$PY manage.py runserver "0.0.0.0:$PORT" &
pids+=($!)
wait -n "${pids[@]}"
