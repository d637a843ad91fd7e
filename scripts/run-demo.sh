#!/usr/bin/env bash
# Installs, builds and starts faultline-server on 127.0.0.1:8474 with the demo
# proxies of examples/demo.json and the built-in demo upstreams.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target faultline-server faultline
echo
echo "faultline-server is starting on http://127.0.0.1:8474 (Ctrl+C stops it)."
echo "Try:  curl -s http://127.0.0.1:26000/    (demo_http proxy -> built-in HTTP upstream)"
echo
exec build/release/src/faultline-server -host 127.0.0.1 -port 8474 -config examples/demo.json -demo-upstreams "$@"
