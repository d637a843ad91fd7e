#!/usr/bin/env python3
"""Speed under live chaos (issue 17's figures), side by side with the direct path:

  1. latency  CONNS connections, each sending RATE requests/s through a 50 ms
              latency toxic (faultline load, open loop, tcp echo): p50, p99
              and max of the round trip (goal: p99 <= 50.5 ms, max <= 52 ms);
  2. noop     one iperf3 stream through a proxy whose toxic does nothing
              (noop: every byte through the toxic path), next to the same
              proxy without a toxic (splice) and the direct path (goal: toxic
              path >= 0.6x direct);
  3. churn    PAIRS toxic add/remove pairs per second through the API for
              SECONDS, on a proxy with CHURN_CONNS live connections, one of
              which streams checksummed data the whole time: the API call's
              p50/p99/max and whether any byte was lost (goal: p99 < 5 ms).

Everything is on 127.0.0.1 and bounded in time.
    python3 bench/live_chaos.py --bin build/release/src [--conns 1000] [--seconds 10]
"""
import argparse
import hashlib
import http.client
import json
import os
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request

from bench_net import api, free_port, wait_port


def echo_server(port, stop):
    """A threaded echo upstream (one thread per connection: enough for the
    churn phase's one stream and idle connections, not for 1,000 busy ones;
    the latency phase uses --echo-port when given, e.g. pxload serve --echo)."""
    listener = socket.create_server(("127.0.0.1", port), backlog=4096)
    listener.settimeout(0.2)

    def serve(conn):
        with conn:
            conn.settimeout(0.5)
            while not stop.is_set():
                try:
                    data = conn.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not data:
                    return
                try:
                    conn.sendall(data)
                except OSError:
                    return

    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(conn,), daemon=True).start()
    listener.close()


def faultline_load(bin_dir, args):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    subprocess.run([os.path.join(bin_dir, "faultline"), "load", *args, "--json", path, "--quiet"], check=True,
                   capture_output=True, timeout=600)
    with open(path) as f:
        result = json.load(f)
    os.unlink(path)
    return result


def latency_phase(bin_dir, api_port, upstream, conns, rate, pipeline, seconds):
    port = free_port()
    api(api_port, "POST", "/proxies", {"name": "lat", "listen": f"127.0.0.1:{port}", "upstream": f"127.0.0.1:{upstream}"})
    api(api_port, "POST", "/proxies/lat/toxics", {"type": "latency", "attributes": {"latency": 50}})
    total = conns * rate
    r = faultline_load(bin_dir, [f"tcp://127.0.0.1:{port}", "--connections", str(conns), "--rate", f"{total}/s",
                                 "--duration", f"{seconds}s", "--warmup", "2s", "--payload", "64",
                                 "--pipeline", str(pipeline)])
    return r


def iperf(port, seconds):
    out = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(seconds), "-J"],
                         capture_output=True, text=True, timeout=seconds + 30).stdout
    return json.loads(out)["end"]["sum_received"]["bits_per_second"] / 1e9


def noop_phase(api_port, seconds):
    iperf_port = free_port()
    server = subprocess.Popen(["iperf3", "-s", "-p", str(iperf_port)], stdout=subprocess.DEVNULL)
    try:
        wait_port(iperf_port)
        rows = {"direct": iperf_port}
        for name in ("splice", "noop"):
            rows[name] = free_port()
            api(api_port, "POST", "/proxies", {"name": name, "listen": f"127.0.0.1:{rows[name]}", "upstream": f"127.0.0.1:{iperf_port}"})
        api(api_port, "POST", "/proxies/noop/toxics", {"type": "noop", "stream": "upstream"})
        api(api_port, "POST", "/proxies/noop/toxics", {"type": "noop", "stream": "downstream"})
        return {name: iperf(port, seconds) for name, port in rows.items()}
    finally:
        server.terminate()
        server.wait()


def churn_phase(api_port, upstream, conns, pairs_per_second, seconds):
    port = free_port()
    api(api_port, "POST", "/proxies", {"name": "churn", "listen": f"127.0.0.1:{port}", "upstream": f"127.0.0.1:{upstream}"})
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(conns - 1)]
    stop = threading.Event()
    sent, got = hashlib.sha256(), hashlib.sha256()
    counts = {"sent": 0, "got": 0}

    def stream():
        s = socket.create_connection(("127.0.0.1", port))
        s.settimeout(5)
        block = bytes(range(256)) * 64
        i = 0
        while not stop.is_set():
            piece = block[i % 256:] + block[:i % 256]
            s.sendall(piece)
            sent.update(piece)
            counts["sent"] += len(piece)
            need = len(piece)
            while need:
                data = s.recv(need)
                if not data:
                    return
                got.update(data)
                counts["got"] += len(data)
                need -= len(data)
            i += 1
        s.close()

    t = threading.Thread(target=stream, daemon=True)
    t.start()
    # One kept-alive API connection, as a client library or a test harness
    # would hold: a new TCP connection per call measures Python, not the API.
    client = http.client.HTTPConnection("127.0.0.1", api_port, timeout=5)

    def call(method, path, body):
        client.request(method, path, body=json.dumps(body) if body is not None else None,
                       headers={"Content-Type": "application/json"})
        r = client.getresponse()
        r.read()
        if r.status >= 300:
            raise RuntimeError(f"{method} {path}: {r.status}")

    times = []
    deadline = time.time() + seconds
    interval = 1.0 / pairs_per_second
    next_at = time.time()
    errors = 0
    while time.time() < deadline:
        for method, path, body in (("POST", "/proxies/churn/toxics", {"name": "flip", "type": "latency", "attributes": {"latency": 1}}),
                                   ("DELETE", "/proxies/churn/toxics/flip", None)):
            start = time.perf_counter()
            try:
                call(method, path, body)
            except Exception:
                errors += 1
                client.close()
            times.append((time.perf_counter() - start) * 1000)
        next_at += interval
        pause = next_at - time.time()
        if pause > 0:
            time.sleep(pause)
    stop.set()
    client.close()
    t.join(timeout=10)
    for s in idle:
        s.close()
    times.sort()
    achieved = len(times) / 2 / seconds
    return {"pairs_per_s": achieved, "p50_ms": times[len(times) // 2], "p99_ms": times[int(len(times) * 0.99)],
            "max_ms": times[-1], "errors": errors, "bytes": counts["sent"],
            "intact": counts["sent"] == counts["got"] and sent.hexdigest() == got.hexdigest()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", default="build/release/src")
    p.add_argument("--conns", type=int, default=1000)
    # Behind 50 ms a connection with one request in flight manages at most
    # 20 requests/s: 100/s per connection needs about 5 in flight, so 10
    # pipelined requests leave room.
    p.add_argument("--rate", type=int, default=100, help="requests/s per connection")
    p.add_argument("--pipeline", type=int, default=10, help="requests in flight per connection")
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--pairs", type=int, default=1000)
    p.add_argument("--churn-conns", type=int, default=1000)
    p.add_argument("--churn-seconds", type=int, default=30, help="how long the API churn is sustained")
    p.add_argument("--phases", default="latency,noop,churn")
    p.add_argument("--echo-port", type=int, default=0, help="a fast echo upstream for the latency phase (default: the threaded one)")
    o = p.parse_args()
    phases = o.phases.split(",")
    api_port, upstream = free_port(), free_port()
    stop = threading.Event()
    threading.Thread(target=echo_server, args=(upstream, stop), daemon=True).start()
    server = subprocess.Popen([os.path.join(o.bin, "faultline-server"), "-port", str(api_port), "-quiet"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(api_port)
        wait_port(upstream)
        if "latency" in phases:
            t = latency_phase(o.bin, api_port, o.echo_port or upstream, o.conns, o.rate, o.pipeline, o.seconds)["targets"][0]
            print(f"latency: {o.conns} connections x {o.rate} req/s (pipeline {o.pipeline}) through latency 50 ms, {o.seconds} s: "
                  f"{t['throughput_per_s']:.0f} req/s, p50 {t['p50_ms']:.2f} ms, p99 {t['p99_ms']:.2f} ms, "
                  f"p99.9 {t['p999_ms']:.2f} ms, max {t['max_ms']:.2f} ms, error rate {t['error_rate']:.4f}")
        if "noop" in phases:
            g = noop_phase(api_port, o.seconds)
            print(f"noop: direct {g['direct']:.2f} Gbit/s, splice {g['splice']:.2f} ({g['splice'] / g['direct']:.2f}x), "
                  f"noop toxic both ways {g['noop']:.2f} ({g['noop'] / g['direct']:.2f}x)")
        if "churn" in phases:
            c = churn_phase(api_port, upstream, o.churn_conns, o.pairs, o.churn_seconds)
            print(f"churn: {c['pairs_per_s']:.0f} add/remove pairs/s for {o.churn_seconds} s with {o.churn_conns} connections, API p50 {c['p50_ms']:.2f} ms, "
                  f"p99 {c['p99_ms']:.2f} ms, max {c['max_ms']:.1f} ms, errors {c['errors']}; stream {c['bytes'] / 1e6:.0f} MB "
                  f"{'intact' if c['intact'] else 'CORRUPTED OR LOST'}")
    finally:
        server.terminate()
        server.wait(timeout=15)
        stop.set()


if __name__ == "__main__":
    main()
