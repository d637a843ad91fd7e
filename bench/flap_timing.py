#!/usr/bin/env python3
"""How exactly a refuse flap keeps its plan.

Starts faultline-server, runs a refuse flap (UP ms up / DOWN ms down, CYCLES
cycles) on a proxy and connects to it every INTERVAL ms, recording when
connects start failing and succeeding again. Each observed edge is compared
with the planned one (start + N x period [+ up]); the report gives the
error's p50, p99 and max next to the sampling interval (what a perfect
server would still show).

    python3 bench/flap_timing.py --server build/release/src/faultline-server
"""
import argparse
import datetime
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def api(port, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"User-Agent": "flap-bench"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read() or b"null")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connects(port):
    s = socket.socket()
    s.settimeout(0.5)
    try:
        s.connect(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default="build/release/src/faultline-server")
    ap.add_argument("--up-ms", type=int, default=50)
    ap.add_argument("--down-ms", type=int, default=50)
    ap.add_argument("--cycles", type=int, default=200)
    ap.add_argument("--interval-ms", type=float, default=2.0)
    args = ap.parse_args()

    api_port = free_port()
    log = tempfile.TemporaryFile()
    server = subprocess.Popen([args.server, "-host", "127.0.0.1", "-port", str(api_port)], stdout=log, stderr=log)
    try:
        for _ in range(200):
            try:
                api(api_port, "GET", "/version")
                break
            except OSError:
                time.sleep(0.02)
        proxy = api(api_port, "POST", "/proxies", {"name": "flap", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"})
        port = int(proxy["listen"].rsplit(":", 1)[1])
        s = api(api_port, "POST", "/faultline/schedules",
                {"proxy": "flap", "kind": "flap", "mode": "refuse", "up_ms": args.up_ms, "down_ms": args.down_ms,
                 "iterations": args.cycles})
        start = datetime.datetime.fromisoformat(s["started_at"].replace("Z", "+00:00")).timestamp()
        period = (args.up_ms + args.down_ms) / 1000
        end = start + args.cycles * period + 0.2
        samples = []
        while time.time() < end:
            t = time.time()
            samples.append((t, connects(port)))
            pause = args.interval_ms / 1000 - (time.time() - t)
            if pause > 0:
                time.sleep(pause)
        # Observed edges: the first sample of each new state.
        edges = [(t, up) for (t, up), (_, before) in zip(samples[1:], samples) if up != before]
        errors = []
        for t, up in edges:
            n = round((t - start - (0 if up else args.up_ms / 1000)) / period)
            planned = start + n * period + (0 if up else args.up_ms / 1000)
            errors.append((t - planned) * 1000)
        expected = 2 * args.cycles
        print(f"refuse flap {args.up_ms} ms up / {args.down_ms} ms down, {args.cycles} cycles, "
              f"a connect every {args.interval_ms} ms ({len(samples)} samples)")
        print(f"  edges observed   {len(edges)} of {expected} planned")
        if errors:
            abs_errors = [abs(e) for e in errors]
            print(f"  edge error (ms)  p50 {percentile(abs_errors, 50):.2f}  p99 {percentile(abs_errors, 99):.2f}  "
                  f"max {max(abs_errors):.2f}   (sampling alone: up to {args.interval_ms:.1f})")
            print(f"  mean signed      {sum(errors) / len(errors):+.2f} ms (positive: after the plan)")
        state = api(api_port, "GET", "/faultline/schedules/flap_flap")
        print(f"  schedule         {state['state']}, {state['transitions']} transitions")
        return 0 if len(edges) >= expected * 0.95 else 1
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
