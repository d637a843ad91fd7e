#!/usr/bin/env python3
"""What parsing HTTP costs: wrk (keep-alive, 64 connections) against the
server's demo HTTP upstream, side by side:

  direct    wrk -> upstream
  splice    wrk -> faultline (no toxic: the zero-copy path) -> upstream
  parsed    wrk -> faultline with an http_error toxic that matches no
            request (every request and response framed by Beast's parser,
            bytes forwarded untouched) -> upstream
  faulted   as parsed, but the toxic answers 10 % of the requests itself

Each row is the median of --runs runs of --seconds seconds. Everything is on
this machine and on 127.0.0.1: wrk, the proxy and the upstream share its
cores, so the proxy rows pay for the proxy's CPU twice (its own work, and
what it takes from wrk and the upstream).

  bench/http_toxics.py [--bin build/release/src] [--seconds 5] [--runs 3]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

from bench_net import api, free_port, wait_port

UPSTREAM_PORT = 26080  # the demo HTTP upstream's fixed address


def wrk(port, seconds, connections, threads):
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
                          f"http://127.0.0.1:{port}/bench"], capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for pct, value, unit in re.findall(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        v = float(value)
        lat[pct] = v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, lat.get("50", float("nan")), lat.get("99", float("nan")), int(errors.group(1)) if errors else 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default="build/release/src")
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    o = p.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    api_port = free_port()
    server = subprocess.Popen([os.path.join(o.bin, "faultline-server"), "-port", str(api_port), "-demo-upstreams", "-quiet"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(api_port)
        wait_port(UPSTREAM_PORT)
        ports = {"direct": UPSTREAM_PORT}
        for name in ("splice", "parsed", "faulted"):
            ports[name] = free_port()
            api(api_port, "POST", "/proxies", {"name": name, "listen": f"127.0.0.1:{ports[name]}",
                                               "upstream": f"127.0.0.1:{UPSTREAM_PORT}"})
        api(api_port, "POST", "/proxies/parsed/toxics",
            {"type": "http_error", "attributes": {"path": "/never/*", "status": 503}})
        api(api_port, "POST", "/proxies/faulted/toxics",
            {"type": "http_error", "toxicity": 0.1, "attributes": {"status": 503}})
        rows = {}
        for name, port in ports.items():
            wrk(port, 1, o.connections, o.threads)  # warm-up
            runs = [wrk(port, o.seconds, o.connections, o.threads) for _ in range(o.runs)]
            runs.sort(key=lambda r: r[0])
            rows[name] = runs[len(runs) // 2]
        direct = rows["direct"][0]
        print(f"HTTP/1.1 keep-alive, wrk -t{o.threads} -c{o.connections}, {o.seconds} s x {o.runs} runs (median), "
              f"demo upstream on 127.0.0.1:{UPSTREAM_PORT}")
        print(f"{'path':<10} {'requests/s':>12} {'x direct':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
        for name, (rps, p50, p99, errors) in rows.items():
            print(f"{name:<10} {rps:>12,.0f} {rps / direct:>9.2f} {p50:>8.2f} {p99:>8.2f} {errors:>8}")
        parsed = rows["parsed"][0]
        print(f"parsing costs {100 * (1 - parsed / direct):.0f} % of the direct throughput "
              f"({100 * (1 - parsed / rows['splice'][0]):.0f} % of the splice path's)")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
