#!/usr/bin/env bash
# The development OIDC provider (staff sign-in in the demo and the browser tests) runs on
# Node.js: install Debian's nodejs and npm when they are missing (as root, as chromium.sh does
# for the browser), then the provider's pinned npm packages (`npm ci`) when they are not
# installed yet or the lock file changed. Fails with one line saying what to install otherwise.
set -euo pipefail
cd "$(dirname "$0")/oidc"

node_is_recent() {
  command -v npm >/dev/null &&
    node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' 2>/dev/null
}

if ! node_is_recent; then
  apt_error=""
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "oidc: installing Debian's nodejs and npm (the staff sign-in provider runs on them)" >&2
    apt_error=$( (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq nodejs npm >/dev/null) 2>&1 | grep '^E:' | tail -n 1 || true)
  fi
  if ! node_is_recent; then
    echo "oidc: the staff sign-in provider needs Node.js 18 or later and npm:" \
      "install Debian's nodejs and npm (sudo apt-get install nodejs npm)${apt_error:+; apt-get said: $apt_error}" >&2
    exit 1
  fi
fi

if [ ! node_modules/.package-lock.json -nt package-lock.json ]; then
  echo "oidc: installing the sign-in provider's npm packages (npm ci in scripts/oidc)" >&2
  if ! output=$(npm ci --no-audit --no-fund --loglevel=error 2>&1); then
    echo "oidc: npm ci failed in scripts/oidc:" >&2
    echo "$output" | tail -n 20 | sed 's/^/  /' >&2
    exit 1
  fi
fi
