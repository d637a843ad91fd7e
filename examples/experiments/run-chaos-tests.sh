#!/usr/bin/env bash
# Runs every experiment in this folder against a faultline server with the
# demo setup (scripts/run-demo.sh), one journal each, and prints a summary.
#   examples/experiments/run-chaos-tests.sh [--dry actions]
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${FAULTLINE_BIN:-$here/../../build/release/src}"
out="${OUT:-/tmp/faultline-experiments}"
mkdir -p "$out"
"$bin/faultline" run "$here" --journal-path "$out/journal.json" "$@"
