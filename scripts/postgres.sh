#!/usr/bin/env bash
# Starts the project's own PostgreSQL (port 5544) when it is not running yet, installing
# Debian's server first on a machine that has none. Prints nothing on success but the
# address. Only used when the user did not give a DATABASE_URL.
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

if "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  exit 0
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
mkdir -p "$data"
[ "$(id -u)" = 0 ] && chown postgres: "$data" && chmod 700 "$data"

if [ ! -f "$data/PG_VERSION" ]; then
  "${as[@]}" "$pg_bin/initdb" -D "$data" --auth=trust -U postgres -E UTF8 --no-locale >/dev/null
fi
"${as[@]}" "$pg_bin/pg_ctl" -D "$data" -l "$data/server.log" -w -s \
  -o "-p $PORT -k $data -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on" start
echo "postgres: started on 127.0.0.1:$PORT (data in $data)" >&2
