#!/usr/bin/env python3
"""Goodput through packet_loss (tcp mode) next to what TCP would get.

Starts faultline-server and an iperf3 server, then runs iperf3 for SECONDS
through a proxy with packet_loss on its upstream stream at each loss rate,
and prints the measured goodput next to the toxic's own model (segment /
(loss x mean stall)) and the Mathis formula (MSS/RTT x 1.22/sqrt(p)) for a
few round-trip times, with the direct path for scale.

    python3 bench/packet_loss.py --server build/release/src/faultline-server [--seconds 5]
"""
import argparse
import json
import math
import subprocess

from bench_net import api, free_port, wait_port


def iperf(port, seconds):
    out = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(seconds), "-J"],
                         capture_output=True, text=True, timeout=seconds + 60)
    result = json.loads(out.stdout)
    return result["end"]["sum_received"]["bits_per_second"] / 8


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", default="build/release/src/faultline-server")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rto-ms", type=int, default=200)
    args = parser.parse_args()
    api_port, iperf_port, proxy_port = free_port(), free_port(), free_port()
    server = subprocess.Popen([args.server, "-port", str(api_port), "-quiet"])
    upstream = subprocess.Popen(["iperf3", "-s", "-p", str(iperf_port)], stdout=subprocess.DEVNULL)
    try:
        wait_port(api_port)
        wait_port(iperf_port)
        api(api_port, "POST", "/proxies", {"name": "lossy", "listen": f"127.0.0.1:{proxy_port}", "upstream": f"127.0.0.1:{iperf_port}"})
        direct = iperf(iperf_port, args.seconds)
        mss = 1448
        print(f"direct path: {direct / 1e6:.0f} MB/s; rto_ms {args.rto_ms}, segment_size {mss}, {args.seconds} s per run\n")
        print("| loss | measured goodput | the toxic's model | Mathis, RTT 10 ms | Mathis, RTT 50 ms | Mathis, RTT 200 ms |")
        print("|---|---|---|---|---|---|")
        for p in (0.001, 0.01, 0.05):
            api(api_port, "POST", "/proxies/lossy/toxics",
                {"name": "loss", "type": "packet_loss", "stream": "upstream",
                 "attributes": {"loss_rate": p, "rto_ms": args.rto_ms, "segment_size": mss}})
            measured = iperf(proxy_port, args.seconds)
            api(api_port, "DELETE", "/proxies/lossy/toxics/loss")
            # A loss costs one rto, plus rto x 2^k while its retransmissions are lost (probability p each).
            mean_stall = sum(args.rto_ms / 1000 * (2 ** k) * (p ** k) for k in range(16))
            model = mss / (p * mean_stall)
            mathis = [mss / rtt * 1.22 / math.sqrt(p) for rtt in (0.010, 0.050, 0.200)]
            cells = " | ".join(f"{m / 1e3:,.0f} KB/s" for m in mathis)
            print(f"| {p * 100:g} % | {measured / 1e3:,.0f} KB/s | {model / 1e3:,.0f} KB/s | {cells} |")
    finally:
        server.terminate()
        upstream.terminate()
        server.wait()
        upstream.wait()


if __name__ == "__main__":
    main()
