#!/usr/bin/env bash
# A feasibility probe for issue 17's in-kernel fast path: one client<->upstream
# pair proxied by a sockhash and a stream-verdict program that redirects each
# socket's bytes to its peer (and passes them to user space when told to).
# Prints what moved in the kernel, a 200 MB bulk rate, a 64-byte ping-pong
# time, a switch of one direction to user space, and what a FIN looks like.
# Needs root (CAP_BPF), clang, libbpf-dev. Not part of the build or the tests.
set -euo pipefail
cd "$(dirname "$0")"
out=$(mktemp -d)
for p in clang libbpf-dev; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=" $p"; done
[ -n "${missing:-}" ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
clang -O2 -g -target bpf -I/usr/include/"$(gcc -dumpmachine)" -c redirect.bpf.c -o "$out/redirect.bpf.o"
gcc -O2 probe.c -o "$out/probe" -lbpf
gcc -O2 direct.c -o "$out/direct"
(cd "$out" && ./probe && ./direct)
rm -rf "$out"
