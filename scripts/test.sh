#!/usr/bin/env bash
# Installs, builds and runs every test: unit and integration tests on the
# optimised build (on -fast-path splice, then again on bpf where the machine
# allows it), the compatibility test with a real Toxiproxy client, the
# whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer, the
# concurrency tests under ThreadSanitizer, every fuzz target for a bounded
# time (FUZZ_SECONDS, default 20 each) and a churn soak under ASan
# (SOAK_SECONDS, default 60).
set -uo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
jobs=$(nproc)

scripts/setup.sh || exit 1
export CCACHE_BASEDIR="$PWD"
# The test executables use precompiled headers; ccache caches them only so.
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime

passed=0
failed=0
status=0

# Seconds since the start, for the stage headings.
at() { echo "[$(( $(date +%s) - started )) s]"; }

# What a failed ctest run says about each failure: the assertion, the
# sanitizer's report, the tail of the server's log.
show_failures() {
  # A failed expectation's own message follows its "Expected"/"Actual" lines.
  grep -E -A6 "Failure$" "$1" | grep -vE "^--$" | head -100
  grep -E "WARNING: ThreadSanitizer|ERROR: |SUMMARY: |runtime error|\*\*\*|Assertion" "$1" | head -40
}

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
  echo "== build ($preset) $(at)"
  if ! { cmake --preset "$preset" >/dev/null && cmake --build --preset "$preset" -j "$jobs"; } >"$log" 2>&1; then
    tail -50 "$log"; echo "build ($preset) failed"; failed=$((failed + 1)); status=1; return
  fi
  echo "== tests ($preset) $(at)"
  # Timing-sensitive tests run one at a time; the rest two at a time.
  ctest --preset "$preset" -j "$jobs" -LE timing --output-on-failure >"$log" 2>&1; grep -E "tests passed" "$log"; count_ctest "$log"
  grep -q "100% tests passed" "$log" || { status=1; show_failures "$log"; }
  echo "== timing tests ($preset, one at a time) $(at)"
  ctest --preset "$preset" -L timing --output-on-failure >"$log" 2>&1; grep -E "tests passed|No tests" "$log"
  if grep -q "No tests were found" "$log"; then :; else count_ctest "$log"; grep -q "100% tests passed" "$log" || { status=1; show_failures "$log"; }; fi
  rm -f "$log"
}

# The default fast path is auto (bpf where the machine allows it): the
# first pass pins splice, the second runs the whole suite again on bpf; the
# sanitizer runs, the soak and the examples use the default.
FAULTLINE_FAST_PATH=splice run_suite ci

# The whole suite again with the in-kernel fast path (-fast-path bpf), where
# this machine allows it (root, or CAP_BPF and CAP_NET_ADMIN).
echo "== tests again on the in-kernel fast path (FAULTLINE_FAST_PATH=bpf) $(at)"
bpf_probe=$(mktemp)
build/ci/src/faultline-server -port 0 -fast-path bpf >"$bpf_probe" 2>&1 &
bpf_pid=$!
sleep 1
if kill -0 "$bpf_pid" 2>/dev/null; then
  kill "$bpf_pid"; wait "$bpf_pid" 2>/dev/null
  bpf_log=$(mktemp)
  FAULTLINE_FAST_PATH=bpf ctest --preset ci -j "$jobs" -LE timing --output-on-failure >"$bpf_log" 2>&1; grep -E "tests passed" "$bpf_log"; count_ctest "$bpf_log"
  grep -q "100% tests passed" "$bpf_log" || { status=1; show_failures "$bpf_log"; }
  FAULTLINE_FAST_PATH=bpf ctest --preset ci -L timing --output-on-failure >"$bpf_log" 2>&1; grep -E "tests passed" "$bpf_log"; count_ctest "$bpf_log"
  grep -q "100% tests passed" "$bpf_log" || { status=1; show_failures "$bpf_log"; }
  rm -f "$bpf_log"
else
  wait "$bpf_pid" 2>/dev/null
  echo "not available here, so not run: $(tail -1 "$bpf_probe")"
fi
rm -f "$bpf_probe"

echo "== compatibility (toxiproxy-node-client) $(at)"
compat_log=$(mktemp)
if tests/compat/run.sh build/ci/src/faultline-server >"$compat_log" 2>&1; then
  grep -E "^# (pass|fail)" "$compat_log"
else
  tail -40 "$compat_log"; status=1
fi
p=$(grep -E "^# pass" "$compat_log" | awk '{print $3}'); f=$(grep -E "^# fail" "$compat_log" | awk '{print $3}')
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1}))
rm -f "$compat_log"

echo "== web UI in headless Chromium (tests/ui, playwright-core) $(at)"
ui_log=$(mktemp)
if tests/ui/run.sh build/ci/src/faultline-server >"$ui_log" 2>&1; then
  grep -E "^# (pass|fail)" "$ui_log"
else
  grep -vE "^\s+(duration_ms|type):" "$ui_log" | tail -40; status=1
fi
p=$(grep -E "^# pass" "$ui_log" | awk '{print $3}'); f=$(grep -E "^# fail" "$ui_log" | awk '{print $3}')
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1}))
rm -f "$ui_log"

echo "== example: seed 004's memcached scenarios (examples/memcached/run.sh, shortened) $(at)"
example_log=$(mktemp)
if FAULTLINE_BIN=build/ci/src SCALE=0.3 API_PORT=28475 OUT="$(mktemp -d)" examples/memcached/run.sh >"$example_log" 2>&1 &&
   [ "$(grep -cE "fault window" "$example_log")" -eq 5 ]; then
  cat "$example_log"; passed=$((passed + 1))
else
  tail -30 "$example_log"; failed=$((failed + 1)); status=1
fi
rm -f "$example_log"

echo "== example: the experiments folder (examples/experiments/run-chaos-tests.sh against the demo) $(at)"
experiments_log=$(mktemp)
build/ci/src/faultline-server -port 28478 -config examples/demo.json -demo-upstreams -quiet &
demo_pid=$!
for _ in $(seq 100); do curl -fs http://127.0.0.1:28478/version >/dev/null 2>&1 && break; sleep 0.05; done
if TOXIPROXY_PORT=28478 FAULTLINE_BIN=build/ci/src OUT="$(mktemp -d)" examples/experiments/run-chaos-tests.sh >"$experiments_log" 2>&1 &&
   grep -q "^Passed: 3$" "$experiments_log"; then
  grep -E "PASSED|FAILED|^Passed|^Failed" "$experiments_log"; passed=$((passed + 1))
else
  tail -30 "$experiments_log"; failed=$((failed + 1)); status=1
fi
kill "$demo_pid" 2>/dev/null; wait "$demo_pid" 2>/dev/null
rm -f "$experiments_log"

run_suite asan

echo "== build (tsan) $(at)"
tsan_log=$(mktemp)
if { cmake --preset tsan >/dev/null && cmake --build --preset tsan -j "$jobs"; } >"$tsan_log" 2>&1; then
  echo "== tests (tsan: control-plane changes, toggles, deletes and shutdown while data flows) $(at)"
  ctest --preset tsan -j "$jobs" --output-on-failure >"$tsan_log" 2>&1; grep -E "tests passed" "$tsan_log"; count_ctest "$tsan_log"
  grep -q "100% tests passed" "$tsan_log" || { status=1; show_failures "$tsan_log"; }
else
  tail -50 "$tsan_log"; echo "build (tsan) failed"; failed=$((failed + 1)); status=1
fi
rm -f "$tsan_log"

echo "== fuzz (${FUZZ_SECONDS:-20} s per target, then replayed through the ASan build) $(at)"
fuzz_log=$(mktemp)
scripts/fuzz.sh all "${FUZZ_SECONDS:-20}s" 2>&1 | tee "$fuzz_log"
passed=$((passed + $(grep -cE "^fuzz [a-z_]+: ok" "$fuzz_log")))
fuzz_failures=$(grep -cE "FAILED" "$fuzz_log")
if [ "$fuzz_failures" -gt 0 ] || ! grep -qE "^fuzz [a-z_]+: ok" "$fuzz_log"; then failed=$((failed + fuzz_failures + 1)); status=1; fi
rm -f "$fuzz_log"

echo "== soak (${SOAK_SECONDS:-60} s of churn under ASan) $(at)"
soak_log=$(mktemp)
# Under ASan the server is several times slower and keeps freed memory in
# quarantine, so API calls get 500 ms and RSS a wide margin here; the
# documented 10-minute run uses the release build and the real limits.
if python3 bench/soak.py --server build/asan/src/faultline-server --duration "${SOAK_SECONDS:-60}s" \
     --connections 300 --seed 8 --max-api-ms 500 --rss-slack-mib 1024 >"$soak_log" 2>&1; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); status=1
fi
grep -E "^soak:|connections|bytes|fds|RSS|API" "$soak_log" | tail -12
rm -f "$soak_log"

echo "== done in $(( $(date +%s) - started )) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && exit $status || exit 1
