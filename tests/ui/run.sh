#!/usr/bin/env bash
# Runs the web UI's browser tests against the faultline-server binary given
# as $1, in Debian's Chromium (scripts/setup.sh installs it); screenshots go
# to $SCREENSHOTS when it is set.
set -euo pipefail
server="$(realpath "$1")"
cd "$(dirname "$0")"
if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
FAULTLINE_SERVER="$server" node --test --test-reporter=tap
