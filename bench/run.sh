#!/bin/sh
# Builds the release preset (faultline-server + faultline-bench) and runs the
# benchmark. Everything after the script name goes to faultline-bench:
#
#   bench/run.sh [--reps N] [--quick] [--peer 'CMD with {host} {port}'] [--json out.json]
#
# Other options: --duration S, --scale-conns N, --server-args 'ARGS',
# --label NAME, --peer-label NAME, --no-iperf, --workdir DIR.
# BUILD_DIR=build/other bench/run.sh ... uses (and builds) another build tree
# configured with CMAKE_BUILD_TYPE=RelWithDebInfo instead of the preset.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ -n "${BUILD_DIR:-}" ]; then
  build="$BUILD_DIR"
  [ -f "$build/build.ninja" ] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" --target faultline-server faultline-bench >&2
else
  build=build/release
  [ -f "$build/build.ninja" ] || cmake --preset release >/dev/null
  cmake --build --preset release --target faultline-server faultline-bench >&2
fi
exec "$build/bench/faultline-bench" --server "$build/src/faultline-server" "$@"
