#!/usr/bin/env bash
# Runs the compatibility tests against the faultline-server binary given as $1.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules/toxiproxy-node-client ]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
FAULTLINE_SERVER="$(realpath "$1")" node --test --test-reporter=tap
