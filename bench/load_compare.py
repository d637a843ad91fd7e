#!/usr/bin/env python3
"""`faultline load` measured against the tools people already trust, on
this machine, side by side:

  1. HTTP: wrk and `faultline load` against the server's demo HTTP upstream,
     same connections and threads: throughput, p50, p99.
  2. Redis: redis-benchmark (PING, mbulk) and `faultline load redis://`,
     same clients, one thread each (redis-benchmark has one).
  3. Self-overhead: p50 of a direct loopback tcp echo at 1,000 req/s.
  4. Accuracy: through a 50 ms latency toxic, p50 minus the direct p50;
     a --rate 2000/s run's achieved rate.
  5. Time to recovery of a scripted 2 s outage (disable, enable) against
     what the event timestamps and the client's first successes imply.

Every run is bounded in time and targets 127.0.0.1 only.
  bench/load_compare.py [--bin build/release/src] [--seconds 5]
"""
import argparse, json, os, re, shutil, subprocess, sys, tempfile, threading, time, urllib.request

def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, check=True, **kw).stdout

def api(url, method="GET", body=None):
    req = urllib.request.Request(url, method=method, data=body.encode() if body else None,
                                 headers={"User-Agent": "bench"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.read().decode()

def faultline_load(bin_dir, args):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    sh([os.path.join(bin_dir, "faultline"), "load", *args, "--json", path, "--quiet"])
    with open(path) as f:
        result = json.load(f)
    os.unlink(path)
    return result

def wait_port(port):
    import socket
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")

def wrk_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default="build/release/src")
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--connections", type=int, default=64)
    o = p.parse_args()
    secs = f"{o.seconds}s"
    api_port = 28476
    server = subprocess.Popen([os.path.join(o.bin, "faultline-server"), "-port", str(api_port), "-demo-upstreams", "-quiet"])
    base = f"http://127.0.0.1:{api_port}"
    rows = []
    try:
        wait_port(api_port)
        wait_port(26080)
        # 1. HTTP against wrk
        if shutil.which("wrk"):
            out = sh(["wrk", "-t2", f"-c{o.connections}", f"-d{int(o.seconds)}s", "--latency", "http://127.0.0.1:26080/"])
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
            p50 = wrk_ms(re.search(r"50%\s+(\S+)", out).group(1))
            p99 = wrk_ms(re.search(r"99%\s+(\S+)", out).group(1))
            r = faultline_load(o.bin, ["http://127.0.0.1:26080/", "--concurrency", str(o.connections), "--threads", "2",
                                       "--duration", secs, "--warmup", "1s"])["targets"][0]
            rows.append(("HTTP, %d conns, 2 threads" % o.connections, "wrk", o.connections, rps, p50, p99, r))
        # 2. Redis against redis-benchmark
        if shutil.which("redis-server") and shutil.which("redis-benchmark"):
            port = 26379
            redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                                     stdout=subprocess.DEVNULL)
            try:
                wait_port(port)
                clients = 50
                n = int(60000 * o.seconds)
                out = sh(["redis-benchmark", "-p", str(port), "-c", str(clients), "-n", str(n), "-t", "ping", "--csv"])
                row = [l for l in out.splitlines() if l.startswith('"PING_MBULK"')][0]
                cells = [c.strip('"') for c in row.split(",")]
                rps, p50, p99 = float(cells[1]), float(cells[4]), float(cells[6])
                r = faultline_load(o.bin, [f"redis://127.0.0.1:{port}", "--concurrency", str(clients), "--threads", "1",
                                           "--duration", secs, "--warmup", "1s"])["targets"][0]
                rows.append((f"Redis PING, {clients} clients, 1 thread", "redis-benchmark", clients, rps, p50, p99, r))
            finally:
                redis.terminate()
                redis.wait()
        print(f"{'workload':<34} {'peer':<16} {'peer req/s':>11} {'ours req/s':>11} {'ratio':>6} "
              f"{'peer p50':>9} {'our p50':>9} {'peer p99':>9} {'our p99':>9} {'peer mean*':>10} {'our mean*':>10} {'our mean':>9}")
        for name, peer, clients, rps, p50, p99, r in rows:
            ours = r["throughput_per_s"]
            print(f"{name:<34} {peer:<16} {rps:>11.0f} {ours:>11.0f} {ours / rps:>6.2f} {p50:>8.3f}m {r['p50_ms']:>8.3f}m "
                  f"{p99:>8.3f}m {r['p99_ms']:>8.3f}m {1000 * clients / rps:>9.3f}m {1000 * clients / ours:>9.3f}m {r['mean_ms']:>8.3f}m")
        print("* mean latency implied by Little's law (clients / throughput) for a closed loop with one request per client;\n"
              "  a tool whose measured latency is far below it starts its clock only once its own loop gets to send the request.")

        # 3. Self-overhead on the direct echo
        direct = faultline_load(o.bin, ["tcp://127.0.0.1:26007", "--rate", "1000/s", "--duration", secs, "--warmup", "1s"])["targets"][0]
        print(f"\nself-overhead: direct loopback tcp echo at 1,000 req/s: p50 {direct['p50_ms']:.3f} ms, p99 {direct['p99_ms']:.3f} ms")

        # 4. Accuracy through a 50 ms latency toxic; the rate held at 2000/s
        proxy = json.loads(api(f"{base}/proxies", "POST", '{"name":"lag","listen":"127.0.0.1:0","upstream":"127.0.0.1:26007"}'))
        lag_port = int(proxy["listen"].rsplit(":", 1)[1])
        api(f"{base}/proxies/lag/toxics", "POST", '{"type":"latency","attributes":{"latency":50}}')
        through = faultline_load(o.bin, [f"tcp://127.0.0.1:{lag_port}", "--rate", "1000/s", "--duration", secs, "--warmup", "1s"])["targets"][0]
        excess = through["p50_ms"] - 50 - direct["p50_ms"]
        print(f"accuracy: through a 50 ms latency toxic p50 {through['p50_ms']:.3f} ms = 50 + direct p50 {direct['p50_ms']:.3f} "
              f"{'+' if excess >= 0 else '-'} {abs(excess):.3f} ms (goal: within 0.5 ms)")
        api(f"{base}/proxies/lag", "DELETE")
        held = faultline_load(o.bin, ["tcp://127.0.0.1:26007", "--rate", "2000/s", "--duration", secs, "--warmup", "1s"])["targets"][0]
        print(f"rate: --rate 2000/s achieved {held['throughput_per_s']:.1f}/s ({100 * (held['throughput_per_s'] / 2000 - 1):+.2f} %), "
              f"{held['count']} requests")

        # 5. Time to recovery of a scripted 2 s outage
        proxy = json.loads(api(f"{base}/proxies", "POST", '{"name":"outage","listen":"127.0.0.1:0","upstream":"127.0.0.1:26007"}'))
        out_port = int(proxy["listen"].rsplit(":", 1)[1])
        def outage():
            time.sleep(3.0)
            api(f"{base}/proxies/outage", "POST", '{"enabled":false}')
            time.sleep(2.0)
            api(f"{base}/proxies/outage", "POST", '{"enabled":true}')
        t = threading.Thread(target=outage)
        t.start()
        r = faultline_load(o.bin, [f"tcp://127.0.0.1:{out_port}", "--rate", "1000/s", "--duration", "7s", "--warmup", "1s",
                                   "--timeout", "500ms", "--events", base])
        t.join()
        f = r["faults"][0]
        first_clean = next(s["start_s"] for s in r["slices"] if s["start_s"] >= f["off_s"] - 0.1 and s["errors"] == 0 and s["ok"] > 0)
        implied = max(0.0, first_clean - f["off_s"]) * 1000
        print(f"time to recovery: 2 s outage ({f['off_s'] - f['on_s']:.3f} s by the events): reported {f['time_to_recovery_ms']:.0f} ms, "
              f"implied by the events and the first error-free slice {implied:.0f} ms (difference {abs(f['time_to_recovery_ms'] - implied):.0f} ms); "
              f"time to impact {f['time_to_impact_ms']:.0f} ms")
    finally:
        server.terminate()
        server.wait()

if __name__ == "__main__":
    main()
