#!/usr/bin/env bash
# Starts the project's own PostgreSQL (127.0.0.1, port LOCAL_PG_PORT, 5544 by default) when it
# is not running yet, installing Debian's server first on a machine that has none, and records
# it in var/run/postgres.pid so that `make stop` can stop it. Says in one line what it started
# or found; on a failure, where the server's log is and its last lines. Only used when the user
# did not give a DATABASE_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${LOCAL_PG_PORT:-5544}"

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pg_bin" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "postgres: installing Debian's PostgreSQL server" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  else
    echo "postgres: no PostgreSQL server on this machine; install it or set DATABASE_URL" >&2
    exit 1
  fi
fi

# initdb refuses root: as root, the cluster belongs to the postgres user, and lives where
# that user can reach it (a checkout under /root is out of its reach).
as=()
data="$PWD/var/pg"
if [ "$(id -u)" = 0 ]; then
  as=(runuser -u postgres --)
  mkdir -p var
  if ! runuser -u postgres -- test -x "$PWD/var"; then
    data="/var/tmp/andes-booking-pg-$(echo -n "$PWD" | md5sum | cut -c1-12)"
  fi
fi
shown_data=${data#"$PWD"/}
log="$data/server.log"
where="127.0.0.1:$PORT (data in $shown_data)"

# The server of this data folder, when one runs: postmaster.pid's first line is its process id,
# its fourth the port.
running_pid=""
running_port=""
if [ -f "$data/postmaster.pid" ]; then
  { read -r running_pid; read -r _; read -r _; read -r running_port; } <"$data/postmaster.pid" || true
  kill -0 "$running_pid" 2>/dev/null || running_pid=""
fi

if "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  if [ -n "$running_pid" ] && [ "$running_port" = "$PORT" ]; then
    scripts/services.sh record postgres "$running_pid" "PostgreSQL on 127.0.0.1:$PORT, data in $shown_data"
    echo "postgres: running on $where" >&2
  else
    echo "postgres: 127.0.0.1:$PORT answers but was not started from this folder: using it as it" \
      "is ('make stop' leaves it alone; LOCAL_PG_PORT=<port> starts this folder's own)" >&2
  fi
  exit 0
fi

if [ -n "$running_pid" ]; then
  if [ "$running_port" = "$PORT" ]; then
    echo "postgres: this folder's server (pid $running_pid) runs but does not answer on" \
      "127.0.0.1:$PORT here (started from another network namespace?): 'make stop' stops it" >&2
  else
    echo "postgres: this folder's server already runs (pid $running_pid) on port $running_port," \
      "not $PORT: 'make stop' stops it, or use LOCAL_PG_PORT=$running_port" >&2
  fi
  exit 1
fi

mkdir -p "$data"
[ "$(id -u)" = 0 ] && chown postgres: "$data" && chmod 700 "$data"

if [ ! -f "$data/PG_VERSION" ]; then
  if ! initdb_output=$("${as[@]}" "$pg_bin/initdb" -D "$data" --auth=trust -U postgres -E UTF8 \
    --no-locale 2>&1); then
    echo "postgres: initdb failed in $data:" >&2
    echo "$initdb_output" | tail -n 20 | sed 's/^/  /' >&2
    exit 1
  fi
fi
if ! "${as[@]}" "$pg_bin/pg_ctl" -D "$data" -l "$log" -w -s \
  -o "-p $PORT -k $data -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on" \
  start >/dev/null 2>&1; then
  echo "postgres: could not start on 127.0.0.1:$PORT; the last lines of its log, $log:" >&2
  tail -n 15 "$log" 2>/dev/null | sed 's/^/  /' >&2
  exit 1
fi
read -r pid <"$data/postmaster.pid"
scripts/services.sh record postgres "$pid" "PostgreSQL on 127.0.0.1:$PORT, data in $shown_data"
echo "postgres: started on $where" >&2
