#!/usr/bin/env bash
# A three-node memcached cluster behind three faultline proxies, and five
# failure scenarios, each measured under load: one line per scenario with
# p50, p95, p99, error rate, time to impact and time to recovery. Runs on
# one machine without Docker: memcached comes from Debian's package.
#
#   examples/memcached/run.sh              # every scenario (about 75 s)
#   examples/memcached/run.sh latency      # one of them
#   SCALE=0.3 examples/memcached/run.sh    # shorter phases (a quick look)
#
# RATE (default 2000/s), API_PORT (default 28474) and OUT (where the JSON
# results and HTML reports go, default /tmp/faultline-memcached) may be set.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
RATE=${RATE:-2000/s}
API_PORT=${API_PORT:-28474}
SCALE=${SCALE:-1}
OUT=${OUT:-/tmp/faultline-memcached}
api="http://127.0.0.1:$API_PORT"
mkdir -p "$OUT"

# --- what it needs -------------------------------------------------------
if ! command -v memcached >/dev/null; then
  echo "installing memcached"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends memcached >/dev/null
fi
bin="${FAULTLINE_BIN:-$root/build/release/src}"
if [ ! -x "$bin/faultline-server" ] || [ ! -x "$bin/faultline" ]; then
  echo "building faultline (release preset)"
  "$root/scripts/setup.sh"
  (cd "$root" && cmake --preset release >/dev/null && cmake --build --preset release -j "$(nproc)" >/dev/null)
fi
command -v python3 >/dev/null || { echo "python3 is needed to print the table"; exit 1; }

# --- the cluster -----------------------------------------------------------
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
for port in 11311 11312 11313; do
  memcached -l 127.0.0.1 -p "$port" -U 0 -m 64 -u "$(id -un)" &
  pids+=($!)
done
"$bin/faultline-server" -port "$API_PORT" -config "$here/faultline.json" -quiet &
pids+=($!)
for _ in $(seq 100); do curl -fs "$api/version" >/dev/null 2>&1 && break; sleep 0.05; done
curl -fs "$api/version" >/dev/null || { echo "faultline-server did not start on $api"; exit 1; }

# Milliseconds, scaled.
ms() { python3 -c "print(max(100, int($1 * $SCALE)))"; }
warmup=2000  # not scaled: the baseline band needs it
schedule() { curl -fs -X POST "$api/faultline/schedules" -d "$1" >/dev/null; }

# Each scenario: the faults are schedules created just before the load
# starts, timed from then (after the warm-up, 2 s of normal traffic first).
# $2: how long the faults last (scaled); the measured part is 2 s before
# them (scaled), the faults, and 2.5 s after them to see the recovery.
scenario() {
  local name=$1 fault_ms=$2
  shift 2
  local measured_ms=$(( $(ms 2000) + fault_ms + 2500 ))
  curl -fs -X POST "$api/reset" >/dev/null
  for body in "$@"; do schedule "$body"; done
  "$bin/faultline" load "memcached://127.0.0.1:21211,127.0.0.1:21212,127.0.0.1:21213" \
      --rate "$RATE" --duration "${measured_ms}ms" --warmup "${warmup}ms" --timeout 1s \
      --events "$api" --json "$OUT/$name.json" --report "$OUT/$name.html" --quiet >/dev/null
  python3 - "$name" "$OUT/$name.json" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
r = json.load(open(path))
t = r["targets"][0]
def fmt(v): return "-" if v is None else f"{v:.0f} ms"
impact = [f["time_to_impact_ms"] for f in r["faults"]]
recovery = [f["time_to_recovery_ms"] for f in r["faults"]]
worst = lambda xs: None if not xs or any(x is None for x in xs) else max(xs)
print(f"{name:<18} {t['p50_ms']:>8.3f} {t['p95_ms']:>8.3f} {t['p99_ms']:>9.3f} {100 * t['error_rate']:>8.2f}% "
      f"{fmt(worst(impact)):>10} {fmt(worst(recovery)):>10}   {len(r['faults'])} fault window(s)")
PY
}

start=$((warmup + $(ms 2000)))
five=$(ms 5000)
ten=$(ms 10000)
only=${1:-}
printf "%-18s %8s %8s %9s %9s %10s %10s\n" scenario "p50 ms" "p95 ms" "p99 ms" errors impact recovery

[ -z "$only" ] || [ "$only" = brief-packet-drop ] && scenario brief-packet-drop $five \
  "{\"name\":\"drop\",\"proxy\":\"memcache1\",\"kind\":\"window\",\"start_ms\":$start,\"duration_ms\":$five,
    \"toxic\":{\"type\":\"timeout\",\"stream\":\"downstream\",\"attributes\":{\"timeout\":100}}}"
# The seed fakes 5 % packet loss with a bandwidth-0 toxic at toxicity 0.05:
# one connection in twenty stalls. (A real packet_loss toxic comes later.)
[ -z "$only" ] || [ "$only" = packet-loss ] && scenario packet-loss $five \
  "{\"name\":\"loss\",\"proxy\":\"memcache1\",\"kind\":\"window\",\"start_ms\":$start,\"duration_ms\":$five,
    \"toxic\":{\"type\":\"bandwidth\",\"stream\":\"downstream\",\"toxicity\":0.05,\"attributes\":{\"rate\":0}}}"
[ -z "$only" ] || [ "$only" = node-failure ] && scenario node-failure $ten \
  "{\"name\":\"down\",\"proxy\":\"memcache1\",\"kind\":\"flap\",\"mode\":\"refuse\",\"up_ms\":$start,\"down_ms\":$ten,\"iterations\":1}"
[ -z "$only" ] || [ "$only" = latency ] && scenario latency $five \
  "{\"name\":\"slow\",\"proxy\":\"memcache2\",\"kind\":\"window\",\"start_ms\":$start,\"duration_ms\":$five,
    \"toxic\":{\"type\":\"latency\",\"stream\":\"downstream\",\"attributes\":{\"latency\":500,\"jitter\":50}}}"
[ -z "$only" ] || [ "$only" = combined ] && scenario combined $five \
  "{\"name\":\"down\",\"proxy\":\"memcache1\",\"kind\":\"flap\",\"mode\":\"refuse\",\"up_ms\":$start,\"down_ms\":$five,\"iterations\":1}" \
  "{\"name\":\"slow\",\"proxy\":\"memcache3\",\"kind\":\"window\",\"start_ms\":$start,\"duration_ms\":$five,
    \"toxic\":{\"type\":\"latency\",\"stream\":\"downstream\",\"attributes\":{\"latency\":500,\"jitter\":50}}}"
echo "results: $OUT/<scenario>.json and .html"
