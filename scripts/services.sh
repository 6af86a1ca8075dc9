#!/usr/bin/env bash
# The services this checkout started (its PostgreSQL, the demo's servers), each recorded in
# var/run/<name>.pid: the process id, the process's start time (so that an id the system has
# since given to another process is never taken for ours) and one line saying what it is.
#
#   scripts/services.sh record NAME PID DESCRIPTION
#   scripts/services.sh running          what still runs, one line each
#   scripts/services.sh left-running     the same as a closing note; nothing when nothing runs
#   scripts/services.sh stop [NAME...]   stop them (all by default) by their recorded ids
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=var/run

# Field N of /proc/PID/stat (5: process group, 22: start time), counted after the command name,
# which may hold spaces.
stat_field() {  # pid, N
  local stat fields
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  read -r -a fields <<<"${stat##*) }"
  echo "${fields[$2 - 3]}"
}
start_time() { stat_field "$1" 22; }

# Reads var/run/NAME.pid into pid, started and description; false (and the record removed)
# when its process is gone.
load() {
  local file="$RUN/$1.pid"
  [ -f "$file" ] || return 1
  { read -r pid; read -r started; read -r description; } <"$file" || true
  if [ -n "${pid:-}" ] && [ "$(start_time "$pid" || true)" = "${started:-}" ]; then
    return 0
  fi
  rm -f "$file"
  return 1
}

names() {  # the last started first; PostgreSQL last of all, as the others may use it
  local file
  # shellcheck disable=SC2012,SC2045 # names of our own making: <service>.pid
  for file in $(ls -t "$RUN"/*.pid 2>/dev/null); do
    file=${file##*/}
    [ "${file%.pid}" = postgres ] || echo "${file%.pid}"
  done
  [ ! -e "$RUN/postgres.pid" ] || echo postgres
}

# A service started in a process group of its own (the demo's) is stopped with its children.
stop_one() {
  load "$1" || return 0
  local target=$pid signal=TERM patience=150
  if [ "$1" = postgres ]; then
    signal=INT  # fast shutdown: does not wait for clients to disconnect
    patience=600
  elif [ "$(stat_field "$pid" 5 || true)" = "$pid" ]; then
    target=-$pid
  fi
  kill -s "$signal" -- "$target" 2>/dev/null || true
  for _ in $(seq "$patience"); do
    kill -0 -- "$target" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 -- "$target" 2>/dev/null; then
    if [ "$1" = postgres ]; then
      echo "$description (pid $pid) did not stop within a minute; its log says why" >&2
      return 1
    fi
    kill -s KILL -- "$target" 2>/dev/null || true
  fi
  rm -f "$RUN/$1.pid"
  echo "stopped $description (pid $pid)"
}

case "${1:-}" in
  record)
    mkdir -p "$RUN"
    started=$(start_time "$3") || { echo "services: no process $3 for $2" >&2; exit 1; }
    printf '%s\n%s\n%s\n' "$3" "$started" "$4" >"$RUN/$2.pid"
    ;;
  running | left-running)
    lines=()
    for name in $(names); do
      load "$name" && lines+=("  $description (pid $pid)")
    done
    if [ "$1" = running ]; then
      [ ${#lines[@]} -eq 0 ] || printf '%s\n' "${lines[@]}"
    elif [ ${#lines[@]} -gt 0 ]; then
      echo "Left running:"
      printf '%s\n' "${lines[@]}"
      echo "'make stop' stops $([ ${#lines[@]} -eq 1 ] && echo it || echo them)."
    fi
    ;;
  stop)
    shift
    [ $# -gt 0 ] || { mapfile -t all < <(names) && set -- "${all[@]}"; }
    status=0
    stopped=$(for name in "$@"; do stop_one "$name" || status=1; done; exit $status) || status=1
    if [ -n "$stopped" ]; then
      echo "$stopped"
    elif [ "$status" = 0 ]; then
      echo "Nothing this checkout started is running."
    fi
    exit $status
    ;;
  *)
    sed -n '2,9s/^# \{0,1\}//p' "$0" >&2
    exit 2
    ;;
esac
