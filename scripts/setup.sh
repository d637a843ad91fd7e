#!/usr/bin/env bash
# Installs what faultline needs to build and test, from Debian 12's packages.
# Idempotent and quiet: when everything is there it only checks and exits.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev
  libspdlog-dev libfmt-dev libgtest-dev
  libssl-dev openssl           # https in experiments' http provider; test certificates
  libre2-dev                   # regex tolerances: linear time, no stack overflow on any input
  python3 curl                 # soak test; the README's tour
  iperf3                       # bench/run.sh's bulk figures
  clang libclang-rt-14-dev llvm  # libFuzzer targets; the fast path's BPF program
  libbpf-dev                   # -fast-path bpf (loads the program, manages the sockhash)
  redis-server redis-tools memcached wrk  # `faultline load` against real servers; bench/load_compare.sh
  chromium                     # the web UI's browser tests (tests/ui)
  prometheus                   # a real Prometheus scrapes faultline in a test
  yamllint python3-yaml        # the Kubernetes manifests, the Helm chart and Compose files are checked
  iproute2 util-linux          # scripts/fuzz.sh runs each target in a loopback-only network namespace
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node.js and npm run the compatibility test with a real Toxiproxy client.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
