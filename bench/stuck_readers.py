#!/usr/bin/env python3
"""What clients that stop reading cost the proxy, per fast path.

CLIENTS clients connect through one proxy; the upstream sends each of them
16 MiB that they never read, so every reply waits in the kernel and the
proxy waits for room. On splice the proxy sleeps in epoll; on the in-kernel
path it has no event for "the kernel's bytes reached the client's socket"
and must look now and then (docs/performance.md). Prints the server's CPU
over SECONDS once the replies are stuck, for both paths side by side.

Everything is on 127.0.0.1 and bounded in time and count.
    python3 bench/stuck_readers.py --bin build/release/src [--clients 100] [--seconds 3]
"""
import argparse
import json
import os
import socket
import subprocess
import threading
import time
import urllib.request

REPLY = os.urandom(16 << 20)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Upstream:
    """Accepts connections and, once `go` is set, sends each one REPLY."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1024)
        self.port = self.listener.getsockname()[1]
        self.go = threading.Event()
        self.accepted = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(conn)
            threading.Thread(target=self._reply, args=(conn,), daemon=True).start()

    def _reply(self, conn):
        self.go.wait()
        try:
            conn.sendall(REPLY)
        except OSError:
            pass

    def close(self):
        self.listener.close()
        for c in self.accepted:
            c.close()


def server_cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(binary, fast_path, clients, seconds):
    api_port = free_port()
    server = subprocess.Popen([binary, "-port", str(api_port), "-fast-path", fast_path],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    upstream = Upstream()
    sockets = []
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{api_port}/version", timeout=1).read()
                break
            except OSError:
                time.sleep(0.05)
        body = json.dumps({"name": "stuck", "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{upstream.port}"})
        request = urllib.request.Request(f"http://127.0.0.1:{api_port}/proxies", data=body.encode(), method="POST")
        port = int(json.loads(urllib.request.urlopen(request).read())["listen"].rsplit(":", 1)[1])
        for _ in range(clients):
            c = socket.create_connection(("127.0.0.1", port))
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 10)
            sockets.append(c)
        time.sleep(1.0)  # past the moment connections join the kernel's map
        upstream.go.set()
        time.sleep(2.0)  # the replies fill the clients' sockets
        before = server_cpu_seconds(server.pid)
        time.sleep(seconds)
        return 100 * (server_cpu_seconds(server.pid) - before) / seconds
    finally:
        for c in sockets:
            c.close()
        upstream.close()
        server.terminate()
        server.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default="build/release/src", help="folder with faultline-server")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    binary = os.path.join(args.bin, "faultline-server")
    print(f"{args.clients} clients not reading a 16 MiB reply: server CPU over {args.seconds:g} s (% of one core)")
    for fast_path in ("splice", "bpf"):
        try:
            print(f"  {fast_path:7} {measure(binary, fast_path, args.clients, args.seconds):6.1f} %")
        except (OSError, ValueError, KeyError) as e:
            print(f"  {fast_path:7} not measured: {e}")


if __name__ == "__main__":
    main()
