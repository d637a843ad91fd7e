#!/usr/bin/env bash
# Runs the libFuzzer targets (fuzz/*_fuzz.cpp) under ASan+UBSan.
#   scripts/fuzz.sh all 30s         each target for 30 s (what the test command does)
#   scripts/fuzz.sh http_api 1h     one target for an hour
# Targets: http_api request_json config_file toxic_attributes cli_units load_replies experiment_files http_exchange api_security.
# Starts from the seed corpus in fuzz/corpus/TARGET (read only) plus what
# earlier runs found in build/fuzz/corpus/TARGET; a crash, leak, timeout or
# out-of-memory is written to build/fuzz/artifacts/ and fails the run.
# Then, when the GCC ASan build exists (build/asan, made by scripts/test.sh),
# everything in the corpus is replayed through it: the server ships built
# with GCC, whose code can fail where clang's does not.
set -uo pipefail
cd "$(dirname "$0")/.."
target=${1:-all}
duration=${2:-30s}
seconds=$(python3 -c "import re,sys; m=re.fullmatch(r'(\d+)(s|m|h)?', sys.argv[1]); sys.exit('bad duration: '+sys.argv[1]) if not m else print(int(m[1])*{'s':1,'m':60,'h':3600,None:1}[m[2]])" "$duration") || exit 2
all_targets=(http_api request_json config_file toxic_attributes cli_units load_replies experiment_files http_exchange api_security)
if [ "$target" = all ]; then targets=("${all_targets[@]}"); else targets=("$target"); fi

scripts/setup.sh || exit 1
export CCACHE_BASEDIR="$PWD"
log=$(mktemp)
if ! { cmake --preset fuzz >/dev/null && cmake --build --preset fuzz -j "$(nproc)"; } >"$log" 2>&1; then
  tail -40 "$log"; echo "fuzz build failed"; exit 1
fi

# Inputs name hosts ("x", "645.0.0.1") that the server under test looks up.
# Those lookups would leave this machine as DNS queries, thousands a second,
# and tie the run to a nameserver's speed. So each target runs in a network
# namespace of its own that has only loopback, where such a lookup fails at
# once. Where namespaces are not allowed, the targets run as they are.
isolated() { "$@"; }
if unshare -rn sh -c 'ip link set lo up' 2>/dev/null; then
  isolated() { unshare -rn sh -c 'ip link set lo up && exec "$@"' isolated "$@"; }
else
  echo "fuzz: no network namespace here (unshare -rn refused): inputs' host names are looked up for real"
fi

declare -A dict=([api_security]=http [http_api]=http [request_json]=json [config_file]=json [experiment_files]=json [http_exchange]=http)
declare -A max_len=([http_api]=16384 [request_json]=8192 [config_file]=8192 [toxic_attributes]=256 [cli_units]=64 [load_replies]=4096 [experiment_files]=8192 [http_exchange]=8192 [api_security]=8192)
mkdir -p build/fuzz/artifacts build/fuzz/stalls
status=0
for t in "${targets[@]}"; do
  binary=build/fuzz/fuzz/fuzz_$t
  [ -x "$binary" ] || { echo "no such fuzz target: $t (have: ${all_targets[*]})"; exit 2; }
  work=build/fuzz/corpus/$t
  mkdir -p "$work"
  # http_api talks to a server thread over loopback: slower on a loaded machine.
  timeout_s=10; [ "$t" = http_api ] && timeout_s=30
  args=(-max_total_time="$seconds" -timeout="$timeout_s" -rss_limit_mb=2048 -max_len="${max_len[$t]}" -print_final_stats=1
        -artifact_prefix=build/fuzz/artifacts/"$t"- "$work" fuzz/corpus/"$t")
  [ -n "${dict[$t]:-}" ] && args=(-dict=fuzz/dict/"${dict[$t]}".dict "${args[@]}")
  if isolated "$binary" "${args[@]}" >"$log" 2>&1; then
    runs=$(grep -E "^stat::number_of_executed_units" "$log" | awk '{print $2}')
    echo "fuzz $t: ok, ${runs:-?} executions in ${seconds} s, corpus $(ls "$work" | wc -l) inputs"
    # A connection the API left unserved while it answered others (see
    # fuzz/http_api_fuzz.cpp): not a failure, but shown.
    grep -E "^STALL" "$log" | head -5
    replay=build/asan/fuzz/fuzz_$t
    if [ -x "$replay" ]; then
      if isolated timeout 600 "$replay" "$work" fuzz/corpus/"$t" >"$log" 2>&1; then
        echo "fuzz $t: $(tail -1 "$log") through the GCC ASan build"
      else
        status=1
        echo "fuzz $t: replay through the GCC ASan build FAILED"
        # The last input named is the one that failed; what follows it is why.
        grep -v "^input " "$log" | grep -E "ERROR|SUMMARY|#[0-9]+ 0x|invalid pointer|terminate|what\(\)|Assertion" | head -30
        bad=$(grep "^input " "$log" | tail -1 | cut -d' ' -f2-)
        echo "fuzz $t: the failing input: $bad"; [ -f "$bad" ] && od -c "$bad" | head -20
      fi
    fi
  else
    status=1
    echo "fuzz $t: FAILED"
    grep -E "ERROR|SUMMARY|#[0-9]+ 0x|Test unit written|artifact" "$log" | head -40
  fi
done
rm -f "$log"
exit $status
