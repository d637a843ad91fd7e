#!/usr/bin/env bash
# Installs, builds and runs every test: unit and integration tests on the
# optimised build, the compatibility test with a real Toxiproxy client, and
# the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
set -uo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
jobs=$(nproc)

scripts/setup.sh || exit 1
export CCACHE_BASEDIR="$PWD"

passed=0
failed=0
status=0

# Adds one ctest run's counts to the totals.
count_ctest() {
  local log=$1 line total fails
  line=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$log" | tail -1)
  if [ -z "$line" ]; then failed=$((failed + 1)); return; fi
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
  fails=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  passed=$((passed + total - fails))
  failed=$((failed + fails))
}

run_suite() {
  local preset=$1 log
  log=$(mktemp)
  echo "== build ($preset)"
  if ! { cmake --preset "$preset" >/dev/null && cmake --build --preset "$preset" -j "$jobs"; } >"$log" 2>&1; then
    tail -50 "$log"; echo "build ($preset) failed"; failed=$((failed + 1)); status=1; return
  fi
  echo "== tests ($preset)"
  # Timing-sensitive tests run one at a time; the rest two at a time.
  ctest --preset "$preset" -j "$jobs" -LE timing 2>&1 | tee "$log" | grep -E "tests passed|\*\*\*" ; count_ctest "$log"
  grep -q "100% tests passed" "$log" || status=1
  ctest --preset "$preset" -L timing 2>&1 | tee "$log" | grep -E "tests passed|\*\*\*|No tests" ; 
  if grep -q "No tests were found" "$log"; then :; else count_ctest "$log"; grep -q "100% tests passed" "$log" || status=1; fi
  rm -f "$log"
}

run_suite release

echo "== compatibility (toxiproxy-node-client)"
compat_log=$(mktemp)
if tests/compat/run.sh build/release/src/faultline-server >"$compat_log" 2>&1; then
  grep -E "^# (pass|fail)" "$compat_log"
else
  tail -40 "$compat_log"; status=1
fi
p=$(grep -E "^# pass" "$compat_log" | awk '{print $3}'); f=$(grep -E "^# fail" "$compat_log" | awk '{print $3}')
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1}))
rm -f "$compat_log"

run_suite asan

echo "== done in $(( $(date +%s) - started )) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && exit $status || exit 1
