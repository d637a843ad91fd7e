#!/usr/bin/env python3
"""How close bandwidth with scope "proxy" keeps a whole proxy to its rate.

Low rates: CLIENTS connections read from an upstream that never stops
sending, through a proxy whose downstream is shared at RATE KB/s; the bytes
all of them got between the end of the warm-up and the end of the run are
compared with the rate, and Jain's index (1 = perfectly even) says how
evenly the connections shared it.

High rates: iperf3 with CLIENTS parallel streams through a proxy whose
upstream is shared at 1 GB/s (and 100 MB/s), next to the same proxy with no
toxic and the direct path: the toxic can only be accurate below what the
proxy moves without it.

    python3 bench/shared_bandwidth.py --server build/release/src/faultline-server [--seconds 10]
"""
import argparse
import json
import socket
import subprocess
import threading
import time

from bench_net import api, free_port, wait_port


def endless_source(port, stop):
    """An upstream that writes to every connection until told to stop."""
    listener = socket.create_server(("127.0.0.1", port))
    listener.settimeout(0.2)
    block = b"x" * 16384

    def feed(conn):
        conn.settimeout(0.5)
        with conn:
            while not stop.is_set():
                try:
                    conn.sendall(block)
                except socket.timeout:
                    continue
                except OSError:
                    return

    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        threading.Thread(target=feed, args=(conn,), daemon=True).start()
    listener.close()


def low_rate(api_port, rate_kb, clients, seconds, warmup):
    source_port, proxy_port = free_port(), free_port()
    stop = threading.Event()
    threading.Thread(target=endless_source, args=(source_port, stop), daemon=True).start()
    wait_port(source_port)
    name = f"low{rate_kb}"
    api(api_port, "POST", "/proxies", {"name": name, "listen": f"127.0.0.1:{proxy_port}", "upstream": f"127.0.0.1:{source_port}"})
    api(api_port, "POST", f"/proxies/{name}/toxics",
        {"type": "bandwidth", "attributes": {"rate": rate_kb, "scope": "proxy"}})
    counts = [0] * clients
    counting = threading.Event()
    done = threading.Event()

    def reader(i):
        with socket.create_connection(("127.0.0.1", proxy_port)) as s:
            s.settimeout(0.2)
            while not done.is_set():
                try:
                    got = s.recv(65536)
                except socket.timeout:
                    continue
                if not got:
                    return
                if counting.is_set():
                    counts[i] += len(got)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    time.sleep(warmup)
    counting.set()
    started = time.monotonic()
    time.sleep(seconds)
    done.set()
    elapsed = time.monotonic() - started
    for t in threads:
        t.join()
    stop.set()
    api(api_port, "DELETE", f"/proxies/{name}")
    total = sum(counts)
    jain = total * total / (clients * sum(c * c for c in counts)) if total else 0
    return total / elapsed, jain


def iperf(port, seconds, streams):
    # -O 1: the first second (slow start) is left out of the figure.
    out = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(seconds), "-O", "1", "-P", str(streams), "-J"],
                         capture_output=True, text=True, timeout=seconds + 60)
    result = json.loads(out.stdout)
    return result["end"]["sum_received"]["bits_per_second"] / 8


def high_rate(api_port, iperf_port, rate_kb, clients, seconds):
    proxy_port = free_port()
    name = f"high{rate_kb}"
    api(api_port, "POST", "/proxies", {"name": name, "listen": f"127.0.0.1:{proxy_port}", "upstream": f"127.0.0.1:{iperf_port}"})
    if rate_kb:
        api(api_port, "POST", f"/proxies/{name}/toxics",
            {"type": "bandwidth", "stream": "upstream", "attributes": {"rate": rate_kb, "scope": "proxy"}})
    got = iperf(proxy_port, seconds, clients)
    api(api_port, "DELETE", f"/proxies/{name}")
    return got


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", default="build/release/src/faultline-server")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    api_port, iperf_port = free_port(), free_port()
    server = subprocess.Popen([args.server, "-port", str(api_port), "-quiet"])
    # iperf3 complains about wait_port's probe connection: its stderr is not shown.
    upstream = subprocess.Popen(["iperf3", "-s", "-p", str(iperf_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(api_port)
        wait_port(iperf_port)
        print(f"bandwidth scope=proxy, {args.clients} connections, {args.seconds} s per row\n")
        print(f"| rate | measured | error | fairness (Jain) |")
        print(f"|---|---|---|---|")
        for rate_kb in (1, 10, 1000):
            measured, jain = low_rate(api_port, rate_kb, args.clients, args.seconds, warmup=2)
            want = rate_kb * 1000
            print(f"| {rate_kb} KB/s | {measured:,.0f} B/s | {100 * (measured - want) / want:+.2f} % | {jain:.3f} |", flush=True)
        direct = iperf(iperf_port, args.seconds, args.clients)
        untoxic = high_rate(api_port, iperf_port, 0, args.clients, args.seconds)
        print(f"\niperf3 -P {args.clients}: direct {direct / 1e6:,.0f} MB/s, through the proxy without a toxic {untoxic / 1e6:,.0f} MB/s\n")
        print(f"| rate | measured | error |")
        print(f"|---|---|---|")
        for rate_kb in (100_000, 1_000_000):
            measured = high_rate(api_port, iperf_port, rate_kb, args.clients, args.seconds)
            want = rate_kb * 1000
            note = "" if want < untoxic else " (above what the proxy moves here)"
            print(f"| {rate_kb / 1000:,.0f} MB/s | {measured / 1e6:,.1f} MB/s | {100 * (measured - want) / want:+.2f} %{note} |", flush=True)
    finally:
        server.terminate()
        upstream.terminate()
        server.wait()
        upstream.wait()


if __name__ == "__main__":
    main()
