#!/usr/bin/env bash
# Serves the demo, run by `make demo` once the database is migrated: moto (AWS Secrets Manager,
# SES, S3), the Stripe and Mercado Pago emulators, the OIDC provider for staff sign-in, the
# demo operator's activity panel (the OCTO emulator, its state kept in var/octo-demo.pickle),
# the mailbox (the e-mails sent, printed here and listed on a page), a Huey worker and the web
# app.
# One line per service once it answers; Ctrl-C stops them all. The project's PostgreSQL keeps
# running ('make stop' stops it).
#
# Each service is started in a process group of its own and recorded in var/run/ (see
# scripts/services.sh), so that stopping one stops its children too, and 'make stop' stops them
# all even if this script was killed. Its output is in var/log/.
#
# Ports, all on 127.0.0.1: DEMO_PORT (web, 8000), DEMO_MOTO_PORT (5055), DEMO_STRIPE_PORT
# (12111), DEMO_MERCADOPAGO_PORT (12112), DEMO_OCTO_PORT (12113), DEMO_OIDC_PORT (8055),
# DEMO_MAIL_PORT (8025).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python
WEB_PORT=${DEMO_PORT:-8000}
MOTO_PORT=${DEMO_MOTO_PORT:-5055}
STRIPE_PORT=${DEMO_STRIPE_PORT:-12111}
MERCADOPAGO_PORT=${DEMO_MERCADOPAGO_PORT:-12112}
OCTO_PORT=${DEMO_OCTO_PORT:-12113}
OIDC_PORT=${DEMO_OIDC_PORT:-8055}
MAIL_PORT=${DEMO_MAIL_PORT:-8025}
SENDER=reservas@andes-booking.example
mkdir -p var/log var/run

for port_name in DEMO_PORT:$WEB_PORT DEMO_MOTO_PORT:$MOTO_PORT DEMO_STRIPE_PORT:$STRIPE_PORT \
  DEMO_MERCADOPAGO_PORT:$MERCADOPAGO_PORT DEMO_OCTO_PORT:$OCTO_PORT DEMO_OIDC_PORT:$OIDC_PORT \
  DEMO_MAIL_PORT:$MAIL_PORT; do
  if (exec 3<>"/dev/tcp/127.0.0.1/${port_name#*:}") 2>/dev/null; then
    echo "demo: port ${port_name#*:} is taken (another demo?); choose another with" \
      "${port_name%%:*}=<port>" >&2
    exit 1
  fi
done

# What the app is given instead of the cloud: the same code, pointed at the local services.
moto=http://127.0.0.1:$MOTO_PORT
export DJANGO_DEBUG="${DJANGO_DEBUG:-1}" DEMO_PORT="$WEB_PORT" PYTHONUNBUFFERED=1
export OPERATOR_SITE_URL="http://{domain}:$WEB_PORT"
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL_SECRETS_MANAGER=$moto AWS_ENDPOINT_URL_SES=$moto AWS_ENDPOINT_URL_S3=$moto
export EMAIL_BACKEND=django_ses.SESBackend AWS_SES_REGION_ENDPOINT_URL=$moto DEFAULT_FROM_EMAIL=$SENDER
export STRIPE_API_BASE=http://127.0.0.1:$STRIPE_PORT MERCADOPAGO_API_BASE=http://127.0.0.1:$MERCADOPAGO_PORT

names=() pids=() logs=()  # of the services started, in order
started() {  # name, log, description: records the service started last ($!)
  names+=("$1") pids+=("$!") logs+=("$2")
  scripts/services.sh record "$1" "$!" "$3"
}
fail() {  # what went wrong, log
  echo "demo: $1; the last lines of $2:" >&2
  tail -n 20 "$2" | sed 's/^/  /' >&2
  exit 1
}
wait_until() {  # name, log, pid, command...: quiet until it succeeds (30 s at most)
  local name=$1 log=$2 pid=$3
  shift 3
  for _ in $(seq 300); do
    "$@" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || fail "$name exited" "$log"
    sleep 0.1
  done
  fail "$name did not answer within 30 s" "$log"
}
answers() (  # url [Host header]: it answers 2xx. Bash's /dev/tcp: curl may not be installed.
  rest=${1#http://} && authority=${rest%%/*} && path=${rest#"$authority"}
  exec 3<>"/dev/tcp/${authority%:*}/${authority##*:}" || exit 1
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "${path:-/}" "${2:-$authority}" >&3
  read -r -t 5 _ status _ <&3 || exit 1
  while read -r -t 5 _; do :; done <&3  # all of it: a server cut off mid-answer logs an error
  [[ $status == 2* ]]
)
say() { printf '%-13s%s\n' "$1:" "$2"; }

stop_all() {  # the services started, last first; then what is left (PostgreSQL)
  trap - INT TERM HUP
  local index reversed=()
  for ((index = ${#names[@]} - 1; index >= 0; index--)); do reversed+=("${names[$index]}"); done
  [ ${#reversed[@]} -eq 0 ] || scripts/services.sh stop "${reversed[@]}" || true
  rm -f var/run/oidc.env
  scripts/services.sh left-running || true
}
trap 'exit 0' INT TERM HUP  # Ctrl-C: a clean stop, not an error (make stays quiet)
trap stop_all EXIT

setsid "${VENV:-.venv}/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" </dev/null >var/log/moto.log 2>&1 &
started moto var/log/moto.log "moto (AWS) on $moto"
setsid "$PY" -m emulators --stripe-port "$STRIPE_PORT" --mercadopago-port "$MERCADOPAGO_PORT" \
  --stripe-public-url "http://localhost:$STRIPE_PORT" \
  --mercadopago-public-url "http://localhost:$MERCADOPAGO_PORT" \
  </dev/null >var/log/emulators.log 2>&1 &
started emulators var/log/emulators.log "the Stripe and Mercado Pago emulators"
setsid "$PY" -m emulators.oidc --port "$OIDC_PORT" --site "http://demo.localhost:$WEB_PORT" \
  --site "http://demo-br.localhost:$WEB_PORT" </dev/null >var/run/oidc.env 2>var/log/oidc.log &
started oidc var/log/oidc.log "the OIDC provider on http://127.0.0.1:$OIDC_PORT"
octo=http://127.0.0.1:$OCTO_PORT
setsid "$PY" -m emulators.octo --port "$OCTO_PORT" --demo --state-file var/octo-demo.pickle \
  </dev/null >var/log/octo.log 2>&1 &
octo_pid=$!
started octo var/log/octo.log "the activity panel (OCTO emulator) on $octo"

wait_until moto var/log/moto.log "${pids[0]}" answers "$moto/moto-api/"
say moto "$moto (AWS Secrets Manager, SES, and S3 for the photos)"
wait_until "the emulators" var/log/emulators.log "${pids[1]}" \
  answers "http://127.0.0.1:$STRIPE_PORT/_emulator/health"
wait_until "the emulators" var/log/emulators.log "${pids[1]}" \
  answers "http://127.0.0.1:$MERCADOPAGO_PORT/_emulator/health"
say stripe "http://localhost:$STRIPE_PORT (emulator, with its checkout page)"
say mercadopago "http://localhost:$MERCADOPAGO_PORT (emulator, with its checkout page)"
wait_until "the OIDC provider" var/log/oidc.log "${pids[2]}" grep -q OIDC_RP_CLIENT_ID var/run/oidc.env
say oidc "http://127.0.0.1:$OIDC_PORT (staff sign-in)"
wait_until "the activity panel" var/log/octo.log "$octo_pid" answers "$octo/_emulator/health"
say octo "$octo/octo/v1 (the demo operator's activity panel, emulated)"
# shellcheck disable=SC1090
source <(grep '^export OIDC_[A-Z_]*=' var/run/oidc.env)

"$PY" manage.py seed_demo -v 0
"$PY" manage.py seed_demo_season  # once: a season of bookings for the dashboard and reports
"$PY" scripts/demo_payments.py
"$PY" manage.py connect_demo_panel -v 0 --panel "$octo" --site "http://demo.localhost:$WEB_PORT"

setsid "$PY" -m emulators.mailbox --moto "$moto" --port "$MAIL_PORT" --verify "$SENDER" \
  </dev/null 2>var/log/mailbox.log &
started mailbox var/log/mailbox.log "the mailbox on http://localhost:$MAIL_PORT/"
wait_until "the mailbox" var/log/mailbox.log "${pids[-1]}" answers "http://127.0.0.1:$MAIL_PORT/"
say mailbox "http://localhost:$MAIL_PORT/ (the e-mails sent, also printed below)"

setsid "$PY" manage.py run_huey -w 2 -k thread </dev/null >var/log/huey.log 2>&1 &
started huey var/log/huey.log "the Huey worker"
say huey "the worker (background tasks: e-mails, expired holds, panel sync)"

setsid "$PY" manage.py runserver "127.0.0.1:$WEB_PORT" </dev/null >var/log/web.log 2>&1 &
started web var/log/web.log "the web app on http://127.0.0.1:$WEB_PORT"
wait_until "the web app" var/log/web.log "${pids[-1]}" \
  answers "http://127.0.0.1:$WEB_PORT/" "demo.localhost:$WEB_PORT"
say web "http://127.0.0.1:$WEB_PORT (Django's development server)"

cat <<EOF

  Patagonia Demo Tours (ARS):   http://demo.localhost:$WEB_PORT/
                                book, then pay by card or Mercado Pago on the emulators' pages
  Patagonia Demo Brasil (BRL):  http://demo-br.localhost:$WEB_PORT/   (Pix, with a QR code)
  Backoffice:                   http://demo.localhost:$WEB_PORT/backoffice/
                                sign in as demo-owner, demo-manager or demo-agent (any password)
  Activity panel (OCTO):        $octo/octo/v1   (emulated; the demo operator is connected)
                                its bookings: $octo/_emulator/suppliers/patagonia-demo-panel/bookings
  Platform page:                http://localhost:$WEB_PORT/
  E-mails:                      printed below as they are sent, and at http://localhost:$MAIL_PORT/
  Logs:                         var/log/ (web.log, huey.log, ...)

  Ctrl-C stops the demo.

EOF

# Until Ctrl-C (the trap above), or a service that stops by itself.
wait -n "${pids[@]}" || true
for index in "${!pids[@]}"; do
  kill -0 "${pids[$index]}" 2>/dev/null && continue
  for _ in $(seq 30); do  # stopped by 'make stop', which forgets it once it is gone?
    if [ ! -f "var/run/${names[$index]}.pid" ]; then
      trap - EXIT  # 'make stop' is stopping the others
      rm -f var/run/oidc.env
      echo "demo: stopped by 'make stop'"
      exit 0
    fi
    sleep 0.1
  done
  fail "${names[$index]} stopped by itself" "${logs[$index]}"
done
