#!/usr/bin/env bash
# Runs the compatibility tests against the faultline-server binary given as $1.
set -euo pipefail
server="$(realpath "$1")"
cd "$(dirname "$0")"
if [ ! -d node_modules/toxiproxy-node-client ]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
FAULTLINE_SERVER="$server" node --test --test-reporter=tap
