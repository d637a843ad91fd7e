#!/usr/bin/env python3
"""Soak test for faultline-server: many connections, constant toxic churn.

    python3 bench/soak.py --server build/release/src/faultline-server --duration 60s \
        [--connections 2000] [--proxies 4] [--churn-ms 50] [--seed N] \
        [--max-api-ms 100] [--json FILE]

It starts echo upstreams in this process, the server as a subprocess, and a
few proxies in between, all on 127.0.0.1. Client connections stream
pseudo-random bytes through the proxies and check that the echo is exactly a
prefix of what they sent, while a churn thread adds, changes and removes
toxics, toggles proxies, populates and resets. Every connection that ends
before the client closed it must be explained by a disruption the churn made
on its proxy. At the end it checks the server's descriptors and memory, that
it still answers, and that SIGTERM ends it with status 0. Exit status 0 means
PASS. See docs/soak.md.

Python 3.11 standard library only.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import errno
import json
import math
import os
import random
import re
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HOST = "127.0.0.1"  # everything stays on loopback
MIB = 1024 * 1024
KIB = 1024

MAX_CHUNK = 64 * KIB          # the largest single write of a client
READ_SIZE = 256 * KIB         # the largest single read of a client
CONNECT_TIMEOUT = 10.0        # the server's own -connect-timeout is 10 s
API_TIMEOUT = 10.0            # an API call unanswered this long counts as a hung server
REFUSED_BACKOFF = (0.05, 0.2)  # pause of a slot after a refused connect
LIFETIME = (0.2, 5.0)         # how long a client connection writes, seconds

DISRUPTIVE = ("timeout", "reset_peer", "limit_data")  # toxics that may close connections
ALL_TYPES = ("latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data", "noop")
STREAMS = ("upstream", "downstream")
TOXICITIES = (0.0, 0.5, 1.0)
MAX_TOXICS_PER_PROXY = 6
TOXIC_LIFETIME = (0.2, 4.0)   # the churn removes a toxic after about this long,
CLOSING_TOXIC_LIFETIME = (0.2, 1.5)  # sooner when it may close connections,
DISABLED_FOR = (0.1, 1.0)     # and re-enables a proxy after about this long

# Errors of our own side (not the proxy's doing): they make the run invalid.
LOCAL_ERRNOS = {errno.EADDRNOTAVAIL, errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


def now() -> float:
    # One clock for the event loop, the churn thread and the timeline.
    return time.monotonic()


# --------------------------------------------------------------------------
# Command line

def parse_duration(text: str) -> float:
    """'60s', '2m', '500ms', '1.5' (seconds) -> seconds."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(ms|s|m|h)?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"bad duration {text!r} (use e.g. 60s, 2m, 500ms)")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]
    return float(m.group(1)) * scale


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Soak test for faultline-server (see docs/soak.md).")
    p.add_argument("--server", required=True, help="path to faultline-server")
    p.add_argument("--duration", type=parse_duration, default=60.0, help="load time, e.g. 60s (default 60s)")
    p.add_argument("--connections", type=int, default=2000, help="concurrent client connections (default 2000)")
    p.add_argument("--proxies", type=int, default=4, help="number of proxies (default 4)")
    p.add_argument("--churn-ms", type=float, default=50.0, help="one churn action every N ms (default 50)")
    p.add_argument("--seed", type=int, default=None, help="seed of the server and of every random choice here")
    p.add_argument("--max-api-ms", type=float, default=100.0, help="fail when an API call takes longer (default 100)")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    p.add_argument("--rss-slack-mib", type=float, default=64.0,
                   help="RSS after may be max(2*before, before+N MiB) (default 64)")
    p.add_argument("--chunk-rate", type=float, default=8000.0,
                   help="writes per second over all connections, a bound on Python CPU (default 8000)")
    p.add_argument("--window-kib", type=int, default=256, help="bytes a connection may have unechoed (default 256)")
    p.add_argument("--calm-proxies", type=int, default=None,
                   help="proxies that never get closing toxics, toggles or changes (default 1 if --proxies >= 2)")
    p.add_argument("--explain-grace-ms", type=float, default=1000.0,
                   help="a close this long after a disruption ended still counts as explained (default 1000)")
    p.add_argument("--stall-grace", type=parse_duration, default=10.0,
                   help="after the final reset, time for every connection to finish (default 10s)")
    p.add_argument("--fd-wait", type=parse_duration, default=10.0,
                   help="time for the server's descriptors to return to baseline (default 10s)")
    p.add_argument("--server-arg", action="append", default=[], metavar="ARG",
                   help="extra argument for the server (repeatable), e.g. --server-arg=-workers --server-arg=1")
    p.add_argument("--toxic-types", default=",".join(ALL_TYPES),
                   help="comma-separated toxic types the churn adds (default: all), to narrow down a failure")
    p.add_argument("--keep-log", action="store_true", help="keep the server's log even on PASS")
    a = p.parse_args(argv)
    if a.seed is None:
        a.seed = int(time.time() * 1000) % 1_000_000_007
    if a.calm_proxies is None:
        a.calm_proxies = 1 if a.proxies >= 2 else 0
    if a.proxies < 1 or a.connections < 1 or a.churn_ms <= 0 or a.chunk_rate <= 0:
        p.error("--proxies, --connections, --churn-ms and --chunk-rate must be positive")
    a.calm_proxies = min(a.calm_proxies, a.proxies)
    a.toxic_types = tuple(t.strip() for t in a.toxic_types.split(",") if t.strip())
    unknown = [t for t in a.toxic_types if t not in ALL_TYPES]
    if unknown or not a.toxic_types:
        p.error(f"--toxic-types: unknown {unknown}; choose from {','.join(ALL_TYPES)}")
    return a


# --------------------------------------------------------------------------
# Ports and the server process

def ephemeral_range() -> tuple[int, int]:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = f.read().split()
            return int(lo), int(hi)
    except OSError:
        return 32768, 60999


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))  # no SO_REUSEADDR: stricter than the server's own bind
            return True
        except OSError:
            return False


def pick_listen_ports(count: int) -> list[int]:
    """Free ports below the ephemeral range.

    A proxy that is disabled leaves its port without a listener. If that port
    were in the ephemeral range, a client connect() to it could pick the same
    port as its source and connect to itself (TCP simultaneous open), and the
    proxy could then not listen there again. Below the range that cannot happen.
    """
    lo, _ = ephemeral_range()
    top = max(lo - 1, 2000)
    pool = random.SystemRandom()
    ports: list[int] = []
    for _ in range(2000):  # bounded search
        port = pool.randrange(max(1024, top - 20000), top)
        if port not in ports and port_is_free(port):
            ports.append(port)
            if len(ports) == count:
                return ports
    raise RuntimeError("no free ports below the ephemeral range")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def stable_binary_copy(path: str, workdir: str, wait_s: float = 120.0) -> str:
    """Copy the server binary once it exists and is not being written.

    Another engineer rebuilds it from time to time: running a private copy
    means we never see a half-written file and never hold theirs busy.
    """
    deadline = now() + wait_s
    dest = os.path.join(workdir, os.path.basename(path))
    if not os.path.exists(path):
        print(f"soak: waiting up to {wait_s:.0f} s for {path} to appear", flush=True)
    while now() < deadline:
        try:
            before = os.stat(path)
            time.sleep(1.0)
            if os.stat(path) != before or not os.access(path, os.X_OK):
                continue
            shutil.copy2(path, dest)
            if os.stat(path) == before:
                return dest
        except OSError:
            time.sleep(1.0)  # missing for a moment: being rebuilt
    raise RuntimeError(f"server binary {path} missing or changing for {wait_s:.0f} s")


class ServerProcess:
    """faultline-server as a subprocess, its log in a file."""

    def __init__(self, binary: str, api_port: int, seed: int, extra: list[str], workdir: str):
        self.log_path = os.path.join(workdir, "server.log")
        self.argv = [binary, "-host", HOST, "-port", str(api_port), "-seed", str(seed), "-quiet", *extra]
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "wb")
        # A session of its own: a Ctrl-C on the terminal reaches us, and we
        # decide what happens to the server (reported, then terminated).
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     start_new_session=True, close_fds=True)
        log.close()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def exit_text(self) -> str:
        rc = self.proc.returncode
        if rc is None:
            return "running"
        if rc < 0:
            try:
                return f"killed by signal {signal.Signals(-rc).name}"
            except ValueError:
                return f"killed by signal {-rc}"
        return f"exit status {rc}"

    def log_tail(self, lines: int = 30) -> list[str]:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 64 * KIB))
                return f.read().decode("utf-8", "replace").splitlines()[-lines:]
        except OSError:
            return []

    def terminate(self, timeout: float) -> int | None:
        """SIGTERM and wait; SIGKILL when it does not end. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                return None
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def fd_snapshot(pid: int) -> dict:
    """The server's descriptors by kind. Pipes are separate: the data plane
    keeps a few idle splice pipes per worker for reuse (PipePool)."""
    counts = {"total": 0, "socket": 0, "pipe": 0, "other": 0}
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue  # closed while we looked
        kind = "socket" if target.startswith("socket:") else "pipe" if target.startswith("pipe:") else "other"
        counts[kind] += 1
        counts["total"] += 1
    return counts


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------
# The HTTP API (blocking: used from the churn thread and via to_thread)
#
# Latency is timed from just before the request is sent to the moment the
# kernel received the last byte of the answer (SO_TIMESTAMPNS), so that it is
# the server's latency even when this process waits for the CPU or the GIL on
# a busy machine. The wall-clock time until we had parsed it is kept too.

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; Python does not export it


@dataclasses.dataclass
class Reply:
    status: int | None  # None: no answer (connection error, timeout)
    body: object
    t0: float
    t1: float
    ms: float           # latency as the kernel saw it (wall time if timestamps are unavailable)
    error: str = ""


class ApiRecorder:
    """Every API call with its timing, shared by all threads."""

    def __init__(self, max_ms: float):
        self.max_ms = max_ms
        self.lock = threading.Lock()
        self.calls: list[tuple[float, float, str, str, int | None, float]] = []
        self.failures: list[dict] = []

    def record(self, method: str, path: str, reply: Reply, expected: tuple) -> None:
        with self.lock:
            self.calls.append((reply.t0, reply.t1, method, path, reply.status, reply.ms))
            if reply.status not in expected:
                self.failures.append({"t": reply.t0, "method": method, "path": path, "status": reply.status,
                                      "body": reply.error or str(reply.body)[:200]})

    def clear(self) -> None:
        with self.lock:
            self.calls.clear()
            self.failures.clear()

    def latencies_ms(self) -> list[float]:
        with self.lock:
            return sorted(c[5] for c in self.calls)

    def wall_max_ms(self) -> float:
        with self.lock:
            return max(((t1 - t0) * 1000 for t0, t1, *_ in self.calls), default=0.0)

    def slow_calls(self) -> list[dict]:
        with self.lock:
            return [{"t": t0, "method": m, "path": p, "ms": round(ms, 1), "wall_ms": round((t1 - t0) * 1000, 1)}
                    for t0, t1, m, p, _, ms in self.calls if ms > self.max_ms]

    def calls_between(self, start: float, end: float, proxy: str) -> list[tuple]:
        """Calls that touched `proxy` (or every proxy) in [start, end]: context for a report."""
        with self.lock:
            return [(t0, m, p, s) for t0, t1, m, p, s, _ in self.calls
                    if t1 >= start and t0 <= end and (f"/proxies/{proxy}" in p or p in ("/reset", "/populate"))]


class ApiClient:
    """HTTP/1.1 with one keep-alive connection; one thread at a time."""

    def __init__(self, port: int, recorder: ApiRecorder, timeout: float = API_TIMEOUT):
        self.port = port
        self.recorder = recorder
        self.timeout = timeout
        self.sock: socket.socket | None = None

    def call(self, method: str, path: str, body=None, expected=(200, 201, 204)) -> Reply:
        payload = json.dumps(body).encode() if body is not None else b""
        request = (f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n").encode() + payload
        t0 = now()
        try:
            reused = self.sock is not None
            try:
                reply = self.exchange(request, t0)
            except ConnectionError:
                if not reused:
                    raise
                self.close()  # the server closed an idle keep-alive connection: once more, afresh
                t0 = now()
                reply = self.exchange(request, t0)
        except (OSError, ValueError) as e:
            self.close()
            t1 = now()
            reply = Reply(None, None, t0, t1, (t1 - t0) * 1000, error=f"{type(e).__name__}: {e}")
        self.recorder.record(method, path, reply, expected)
        return reply

    def exchange(self, request: bytes, t0: float) -> Reply:
        if self.sock is None:
            self.sock = socket.create_connection((HOST, self.port), timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            except OSError:
                pass  # no kernel timestamps: wall time it is
        sent_ns = time.time_ns()  # SO_TIMESTAMPNS is wall-clock time
        self.sock.sendall(request)
        status, headers, raw, rx_ns = self.read_response()
        t1 = now()
        ms = (rx_ns - sent_ns) / 1e6 if rx_ns else (t1 - t0) * 1000
        if headers.get("connection", "").lower() == "close":
            self.close()
        body: object = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        return Reply(status, body, t0, t1, max(ms, 0.0))

    def read_response(self) -> tuple[int, dict, bytes, int | None]:
        """Status, headers, body and the kernel time of the last piece."""
        buf = bytearray()
        rx_ns = None
        head_end, total = -1, None
        for _ in range(100_000):  # bounded: answers are small
            data, ancillary, _, _ = self.sock.recvmsg(256 * KIB, socket.CMSG_SPACE(16))
            if not data:
                raise ConnectionError("connection closed before a complete answer")
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
                    sec, nsec = struct.unpack("=qq", value[:16])
                    rx_ns = sec * 1_000_000_000 + nsec
            buf += data
            if head_end < 0 and (head_end := buf.find(b"\r\n\r\n")) >= 0:
                status, headers = parse_head(bytes(buf[:head_end]))
                length = 0 if status in (204, 304) else int(headers.get("content-length", "0"))
                total = head_end + 4 + length
            if total is not None and len(buf) >= total:
                return status, headers, bytes(buf[head_end + 4:total]), rx_ns
        raise ValueError("answer too long")

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def parse_head(head: bytes) -> tuple[int, dict]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError(f"bad status line {lines[0]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


# --------------------------------------------------------------------------
# The timeline of disruptions: what may explain an early close

@dataclasses.dataclass
class Window:
    start: float
    end: float | None  # None: still in force
    kind: str          # e.g. "timeout toxic", "disabled", "populate change"
    # limit_data: the smallest limit it had. Either direction carries at most
    # what the client sent, so it cannot close a connection that sent less.
    min_bytes: int | None = None


class Timeline:
    """Per proxy, the intervals during which connections may legitimately be
    closed: a closing toxic present (from the request that added it to the
    answer of the request that removed it), the proxy disabled, the proxy
    replaced by /populate. Written by the churn thread, read at the end."""

    def __init__(self, proxies: list[str], grace: float):
        self.grace = grace
        self.lock = threading.Lock()
        self.windows: dict[str, list[Window]] = {p: [] for p in proxies}
        self.open: dict[tuple[str, str], Window] = {}

    def begin(self, proxy: str, key: str, kind: str, t: float, min_bytes: int | None = None) -> None:
        with self.lock:
            if (proxy, key) in self.open:
                return
            w = Window(t, None, kind, min_bytes)
            self.windows[proxy].append(w)
            self.open[(proxy, key)] = w

    def lower_limit(self, proxy: str, key: str, limit: int) -> None:
        """A limit_data update: called before the request, like begin()."""
        with self.lock:
            w = self.open.get((proxy, key))
            if w is not None and w.min_bytes is not None:
                w.min_bytes = min(w.min_bytes, limit)

    def end(self, proxy: str, key: str, t: float) -> None:
        with self.lock:
            w = self.open.pop((proxy, key), None)
            if w is not None:
                w.end = t

    def end_all(self, t: float, proxy: str | None = None) -> None:
        with self.lock:
            for (p, key) in [k for k in self.open if proxy is None or k[0] == proxy]:
                self.open.pop((p, key)).end = t

    def quiet_fraction(self, proxy: str, t0: float, t1: float) -> float:
        """How much of [t0, t1] no window (with its grace) covered: the time
        in which any early close on this proxy would have been caught."""
        with self.lock:
            spans = sorted((w.start, math.inf if w.end is None else w.end + self.grace) for w in self.windows[proxy])
        covered, reach = 0.0, t0
        for a, b in spans:
            a, b = max(a, reach), min(b, t1)
            if b > a:
                covered += b - a
                reach = b
        return 1.0 - covered / (t1 - t0) if t1 > t0 else 0.0

    def explain(self, proxy: str, t_open: float, t_end: float, sent: int) -> Window | None:
        """A window that started before the close was seen and had not been
        over for longer than the grace when the connection opened."""
        best = None  # the one that ended last: the least use of the grace
        with self.lock:
            for w in self.windows[proxy]:
                end = math.inf if w.end is None else w.end
                if w.start <= t_end and t_open <= end + self.grace and (w.min_bytes is None or sent >= w.min_bytes):
                    if best is None or end > (math.inf if best.end is None else best.end):
                        best = w
        return best


# --------------------------------------------------------------------------
# The churn: one API action per tick, in a thread of its own so that its
# latency figures do not include the event loop's queue of socket work.

@dataclasses.dataclass
class ToxicState:
    name: str
    type: str
    stream: str
    toxicity: float
    attributes: dict
    remove_at: float


@dataclasses.dataclass
class ProxyState:
    name: str
    listen_port: int
    echo_ports: tuple[int, int]  # one echo, two addresses: populate can change the upstream
    calm: bool                   # never closing toxics, toggles or changes
    upstream_index: int = 0
    enabled: bool = True
    enable_at: float | None = None
    toxics: dict = dataclasses.field(default_factory=dict)

    @property
    def listen(self) -> str:
        return f"{HOST}:{self.listen_port}"

    @property
    def upstream(self) -> str:
        return f"{HOST}:{self.echo_ports[self.upstream_index]}"


def random_attributes(rng: random.Random, kind: str) -> dict:
    """Modest values: the point is churn, not starving the load."""
    if kind == "latency":
        return {"latency": rng.randint(0, 200), "jitter": rng.randint(0, 100)}
    if kind == "bandwidth":
        # rate 0 holds the direction: connections stall until it changes.
        rate = 0 if rng.random() < 0.05 else int(math.exp(rng.uniform(math.log(50), math.log(100_000))))
        return {"rate": rate}
    if kind == "slow_close":
        return {"delay": rng.randint(0, 2000)}
    if kind in ("timeout", "reset_peer"):
        return {"timeout": rng.randint(0, 2000)}
    if kind == "slicer":
        size = rng.randint(1, 4096)
        return {"average_size": size, "size_variation": rng.randint(0, size), "delay": rng.randint(0, 1000)}
    if kind == "limit_data":
        return {"bytes": int(math.exp(rng.uniform(math.log(1000), math.log(10_000_000))))}
    return {}  # noop


class Churn(threading.Thread):
    def __init__(self, api: ApiClient, proxies: list[ProxyState], timeline: Timeline,
                 seed: int, tick_s: float, stop: threading.Event, toxic_types: tuple[str, ...] = ALL_TYPES):
        super().__init__(name="churn", daemon=True)
        self.api = api
        self.proxies = proxies
        self.timeline = timeline
        self.rng = random.Random(seed * 7919 + 1)  # its own sequence, independent of the load's
        self.tick_s = tick_s
        self.stop_event = stop
        self.types = toxic_types
        self.calm_types = tuple(t for t in toxic_types if t not in DISRUPTIVE) or ("noop",)
        self.counts = collections.Counter()
        self.inconsistencies: list[str] = []
        self.serial = 0
        self.dead_server = False  # set when calls fail with no answer at all
        self.wake_late_ms = 0.0
        self.wake_late_at = 0.0

    # -- the loop

    def run(self) -> None:
        next_tick = now()
        while not self.stop_event.is_set() and not self.dead_server:
            self.tick()
            next_tick += self.tick_s
            delay = next_tick - now()
            if delay < 0:  # behind: do not burst to catch up
                next_tick, delay = now(), 0
            self.stop_event.wait(delay)
            # How late this thread woke up: when it is as large as a slow API
            # call, the machine (not the server) was the slow part.
            late = (now() - next_tick) * 1000
            if late > self.wake_late_ms:
                self.wake_late_ms, self.wake_late_at = late, now()

    def tick(self) -> None:
        action = self.due_action() or self.random_action()
        action()

    def due_action(self):
        """Re-enable a proxy or remove a toxic whose time has come, so that
        every proxy has quiet periods in which nothing may close a connection."""
        t = now()
        for p in self.proxies:
            if not p.enabled and p.enable_at is not None and p.enable_at <= t:
                return lambda p=p: self.set_enabled(p, True)
        for p in self.proxies:
            for tox in p.toxics.values():
                if tox.remove_at <= t:
                    return lambda p=p, tox=tox: self.remove_toxic(p, tox)
        return None

    def random_action(self):
        rng = self.rng
        p = rng.choice(self.proxies)
        choices = [(30, lambda: self.add_toxic(p) if len(p.toxics) < MAX_TOXICS_PER_PROXY else self.update_toxic(p)),
                   (20, lambda: self.update_toxic(p)),
                   (12, lambda: self.remove_toxic(p)),
                   (3, lambda: self.toggle(p)),
                   (3, self.populate),
                   (1, self.reset),
                   (4, self.get_proxies),
                   (4, self.get_stats)]
        weights = [w for w, _ in choices]
        return rng.choices([a for _, a in choices], weights)[0]

    def call(self, method, path, body=None, expected=(200, 201, 204)) -> Reply:
        reply = self.api.call(method, path, body, expected)
        self.counts["api_calls"] += 1
        if reply.status is None:
            self.dead_server = True  # the main task finds out why (and reports)
        return reply

    # -- toxics

    def add_toxic(self, p: ProxyState) -> None:
        rng = self.rng
        kind = rng.choice(self.calm_types if p.calm else self.types)
        self.serial += 1
        tox = ToxicState(name=f"{kind}_{self.serial}", type=kind, stream=rng.choice(STREAMS),
                         toxicity=rng.choice(TOXICITIES), attributes=random_attributes(rng, kind),
                         remove_at=now() + rng.uniform(*(CLOSING_TOXIC_LIFETIME if kind in DISRUPTIVE
                                                         else TOXIC_LIFETIME)))
        key = f"toxic {tox.name}"
        if kind in DISRUPTIVE:  # in force from before the request is sent
            self.timeline.begin(p.name, key, f"{kind} toxic", now(), tox.attributes.get("bytes"))
        body = {"name": tox.name, "type": kind, "stream": tox.stream, "toxicity": tox.toxicity,
                "attributes": tox.attributes}
        reply = self.call("POST", f"/proxies/{p.name}/toxics", body, expected=(200,))
        if reply.status == 200:
            p.toxics[tox.name] = tox
            self.counts["toxic_adds"] += 1
        else:
            self.timeline.end(p.name, key, reply.t1)

    def update_toxic(self, p: ProxyState) -> None:
        if not p.toxics:
            return self.add_toxic(p)
        rng = self.rng
        tox = rng.choice(list(p.toxics.values()))
        fresh = random_attributes(rng, tox.type)
        keys = [k for k in fresh if rng.random() < 0.7] or list(fresh)  # only the keys sent change
        body: dict = {"attributes": {k: fresh[k] for k in keys}}
        if rng.random() < 0.3:
            body["toxicity"] = rng.choice(TOXICITIES)
        if "bytes" in body["attributes"]:
            self.timeline.lower_limit(p.name, f"toxic {tox.name}", body["attributes"]["bytes"])
        reply = self.call("POST", f"/proxies/{p.name}/toxics/{tox.name}", body, expected=(200,))
        if reply.status == 200:
            tox.attributes.update(body["attributes"])
            tox.toxicity = body.get("toxicity", tox.toxicity)
            self.counts["toxic_updates"] += 1

    def remove_toxic(self, p: ProxyState, tox: ToxicState | None = None) -> None:
        if tox is None:
            if not p.toxics:
                return self.add_toxic(p)
            tox = self.rng.choice(list(p.toxics.values()))
        reply = self.call("DELETE", f"/proxies/{p.name}/toxics/{tox.name}", expected=(204,))
        if reply.status == 204:
            del p.toxics[tox.name]
            self.timeline.end(p.name, f"toxic {tox.name}", reply.t1)
            self.counts["toxic_removes"] += 1
        else:
            tox.remove_at = now() + 1.0  # try again later, not every tick

    # -- proxies

    def toggle(self, p: ProxyState) -> None:
        if p.calm:
            return self.get_stats()
        self.set_enabled(p, not p.enabled)

    def set_enabled(self, p: ProxyState, enabled: bool) -> None:
        if not enabled:
            self.timeline.begin(p.name, "disabled", "disabled", now())
        reply = self.call("POST", f"/proxies/{p.name}", {"enabled": enabled}, expected=(200,))
        if reply.status != 200:
            if not enabled:  # still enabled: nothing to explain
                self.timeline.end(p.name, "disabled", reply.t1)
            p.enable_at = now() + 1.0
            return
        p.enabled = enabled
        p.enable_at = None if enabled else now() + self.rng.uniform(*DISABLED_FOR)
        if enabled:
            self.timeline.end(p.name, "disabled", reply.t1)
        self.counts["toggles"] += 1

    def populate(self) -> None:
        """Re-send every proxy; sometimes one with its upstream moved to the
        other address of the same echo (the server replaces that proxy)."""
        wild = [p for p in self.proxies if not p.calm]
        changed = self.rng.choice(wild) if wild and self.rng.random() < 0.5 else None
        entries = []
        for p in self.proxies:
            upstream_index = 1 - p.upstream_index if p is changed else p.upstream_index
            entries.append({"name": p.name, "listen": p.listen,
                            "upstream": f"{HOST}:{p.echo_ports[upstream_index]}", "enabled": True})
        t0 = now()
        if changed is not None:
            self.timeline.begin(changed.name, "populate", "populate change", t0)
        reply = self.call("POST", "/populate", entries, expected=(201,))
        if changed is not None:
            self.timeline.end(changed.name, "populate", reply.t1)
        if reply.status != 201:
            return
        self.counts["populates"] += 1
        if changed is not None:
            # A replaced proxy starts afresh: enabled, no toxics.
            changed.upstream_index = 1 - changed.upstream_index
            self.forget_disruptions(changed, reply.t1)
            self.counts["populate_changes"] += 1
        if isinstance(reply.body, dict):
            self.compare(reply.body.get("proxies") or [], "populate")

    def reset(self) -> None:
        reply = self.call("POST", "/reset", expected=(204,))
        if reply.status == 204:
            for p in self.proxies:
                self.forget_disruptions(p, reply.t1)
            self.counts["resets"] += 1

    def forget_disruptions(self, p: ProxyState, t: float) -> None:
        """After reset or replacement: enabled, no toxics; their windows end."""
        p.toxics.clear()
        p.enabled, p.enable_at = True, None
        self.timeline.end_all(t, p.name)

    # -- reads, which also check the server's view against ours

    def get_proxies(self) -> None:
        reply = self.call("GET", "/proxies", expected=(200,))
        self.counts["reads"] += 1
        if reply.status == 200 and isinstance(reply.body, dict):
            self.compare(list(reply.body.values()), "GET /proxies")

    def get_stats(self) -> None:
        reply = self.call("GET", "/faultline/stats", expected=(200,))
        self.counts["reads"] += 1
        if reply.status == 200 and isinstance(reply.body, dict):
            missing = [p.name for p in self.proxies if p.name not in reply.body]
            if missing:
                self.note(f"/faultline/stats lacks proxies {missing}")

    def compare(self, views: list, where: str) -> None:
        by_name = {v.get("name"): v for v in views if isinstance(v, dict)}
        for p in self.proxies:
            v = by_name.get(p.name)
            if v is None:
                if where != "populate":
                    self.note(f"{where}: proxy {p.name} missing")
                continue
            if v.get("enabled") != p.enabled:
                self.note(f"{where}: {p.name} enabled={v.get('enabled')}, expected {p.enabled}")
            if v.get("upstream") != p.upstream:
                self.note(f"{where}: {p.name} upstream={v.get('upstream')}, expected {p.upstream}")
            names = sorted(t.get("name") for t in v.get("toxics") or [])
            if names != sorted(p.toxics):
                self.note(f"{where}: {p.name} toxics={names}, expected {sorted(p.toxics)}")

    def note(self, text: str) -> None:
        self.counts["inconsistencies"] += 1
        if len(self.inconsistencies) < 10:
            self.inconsistencies.append(f"t={now():.3f} {text}")


# --------------------------------------------------------------------------
# Echo upstreams

class EchoProtocol(asyncio.Protocol):
    """Writes back what it reads; stops reading while its write buffer is
    full (so a stalled proxy cannot make it buffer without bound); on EOF
    flushes and closes."""

    def __init__(self, live: set):
        self.live = live
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        transport.set_write_buffer_limits(high=256 * KIB)
        self.live.add(self)

    def data_received(self, data):
        self.transport.write(data)

    def pause_writing(self):
        self.transport.pause_reading()

    def resume_writing(self):
        self.transport.resume_reading()

    def eof_received(self):
        return False  # asyncio closes the transport once the buffer is written

    def connection_lost(self, exc):
        self.live.discard(self)


class Echo:
    """One echo server on two ports (two upstream addresses for /populate)."""

    def __init__(self):
        self.servers = []
        self.ports: tuple[int, int] = (0, 0)
        self.live: set = set()

    async def start(self) -> "Echo":
        loop = asyncio.get_running_loop()
        ports = []
        for _ in range(2):
            server = await loop.create_server(lambda: EchoProtocol(self.live), HOST, 0, backlog=4096)
            self.servers.append(server)
            ports.append(server.sockets[0].getsockname()[1])
        self.ports = (ports[0], ports[1])
        return self

    def close(self) -> None:
        for server in self.servers:
            server.close()
        for proto in list(self.live):
            proto.transport.abort()


# --------------------------------------------------------------------------
# Payload: what every client connection sends

class Payload:
    """A ring of seeded random bytes; connection c sends the ring from its own
    start offset on. Any byte out of place (lost, doubled, reordered, from
    another connection) compares unequal, and checking costs a slice and a
    memcmp instead of generating random bytes twice."""

    SIZE = 8 * MIB - 1  # odd: streams of different connections do not align on powers of two

    def __init__(self, seed: int):
        ring = random.Random(seed).randbytes(self.SIZE)
        self.ring = ring + ring[:READ_SIZE]  # so that any slice up to READ_SIZE is one piece

    def slice(self, start: int, offset: int, n: int) -> bytes:
        p = (start + offset) % self.SIZE
        return self.ring[p:p + n]

    def locate(self, probe: bytes, start: int, offset: int, span: int) -> int | None:
        """Where near `offset` of this stream `probe` really comes from
        (for a report: negative = bytes repeated, positive = bytes skipped)."""
        for base in range(max(0, offset - span), offset + span, READ_SIZE - len(probe)):
            hit = self.slice(start, base, READ_SIZE).find(probe)
            if hit >= 0:
                return base + hit - offset
        return None


# --------------------------------------------------------------------------
# Client connections

@dataclasses.dataclass
class EarlyClose:
    conn: int
    proxy: str
    t_open: float
    t_end: float
    sent: int
    received: int
    how: str


class ClientConnection:
    """Connects, writes its stream in chunks of 1 B..64 KiB with pauses, reads
    the echo and checks it, closes after its lifetime (EOF, then the rest of
    the echo). The outcome is 'completed', 'early', 'corrupt', 'refused'
    (an early close before connecting) or 'stuck'."""

    def __init__(self, load: "Load", conn_id: int, proxy: ProxyState):
        rng = random.Random(load.seed * 1_000_003 + conn_id)
        self.load = load
        self.id = conn_id
        self.proxy = proxy
        self.rng = rng
        self.start = rng.randrange(Payload.SIZE)
        self.lifetime = rng.uniform(*LIFETIME)
        self.sent = 0
        self.received = 0
        self.eof_sent = False
        self.ended = False      # the read side is over: write nothing more
        self.outcome = ""
        self.how = ""           # details of an early close or a corruption
        self.t_open = 0.0
        self.t_end = 0.0
        self.transport = None
        self._waiter: asyncio.Future | None = None

    # -- waking the writer (a cheap future + timer instead of wait_for)

    def wake(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def nap(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._waiter = fut = loop.create_future()
        timer = loop.call_later(max(0.0, seconds), self.wake)
        try:
            await fut
        finally:
            timer.cancel()
            self._waiter = None

    # -- the life of a connection

    async def run(self) -> None:
        self.t_open = now()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(HOST, self.proxy.listen_port, limit=128 * KIB), CONNECT_TIMEOUT)
        except asyncio.TimeoutError:
            return self.finish("refused", "connect timed out")
        except OSError as e:
            if e.errno in LOCAL_ERRNOS:
                return self.finish("client_error", f"connect: {e}")
            return self.finish("refused", f"connect: {e.strerror or e}")
        self.transport = writer.transport
        try:
            receiving = asyncio.ensure_future(self.receive(reader))
            await self.send(writer)
            await receiving
        finally:
            if self.outcome == "completed":
                writer.close()
            else:
                writer.transport.abort()

    async def send(self, writer: asyncio.StreamWriter) -> None:
        load = self.load
        deadline = self.t_open + self.lifetime
        next_write = self.t_open + self.gap()
        size = self.chunk_size()
        while not self.ended and not load.finishing:
            t = now()
            if t >= deadline:
                break
            if t < next_write:
                await self.nap(min(next_write, deadline) - t)
                continue
            if self.sent + size - self.received > load.window:
                await self.nap(deadline - t)  # woken by the reader's progress
                continue
            if self.transport.is_closing():
                break
            data = load.payload.slice(self.start, self.sent, size)
            self.sent += size  # before the write: the echo cannot be faster than this
            load.bytes_sent += size
            writer.write(data)
            next_write = now() + self.gap()
            size = self.chunk_size()
        if not self.ended and not self.transport.is_closing():
            writer.write_eof()
            self.eof_sent = True

    async def receive(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                data = await reader.read(READ_SIZE)
                if not data:
                    return self.end_of_stream()
                if not self.check(data):
                    return
                self.wake()
        except (ConnectionError, OSError) as e:
            self.finish("early", f"{type(e).__name__} after {self.received} of {self.sent} bytes"
                        f"{', EOF sent' if self.eof_sent else ''}")
        finally:
            self.ended = True
            self.wake()

    def end_of_stream(self) -> None:
        if self.eof_sent and self.received == self.sent:
            return self.finish("completed")
        if not self.eof_sent:
            return self.finish("early", f"EOF from proxy before the client closed ({self.received} of {self.sent})")
        return self.finish("early", f"EOF after {self.received} of {self.sent} bytes (echo incomplete)")

    def check(self, data: bytes) -> bool:
        """The echo must continue the stream exactly where it stands."""
        n = len(data)
        load = self.load
        # Compare what can be compared first: a duplicated piece then shows as
        # such rather than only as "too many bytes".
        expected = load.payload.slice(self.start, self.received, min(n, self.sent - self.received))
        if data[:len(expected)] != expected:
            self.finish("corrupt", self.describe_mismatch(data, expected))
            return False
        if n > len(expected):
            self.finish("corrupt", f"{n - len(expected)} bytes more than sent "
                        f"(received {self.received + n}, sent {self.sent})")
            return False
        self.received += n
        load.bytes_verified += n
        return True

    def describe_mismatch(self, data: bytes, expected: bytes) -> str:
        i = next(k for k in range(len(expected)) if data[k] != expected[k])
        at = self.received + i
        probe = data[i:i + 32]
        text = f"byte {at} differs (chunk of {len(data)} at {self.received}, sent {self.sent})"
        if len(probe) >= 16:
            delta = self.load.payload.locate(probe, self.start, at, 4 * self.load.window)
            if delta is None:
                text += "; the bytes from there on are not in this stream nearby (damaged, or another stream's)"
            elif delta < 0:
                text += f"; they repeat stream bytes from {-delta} earlier (duplicated/reordered)"
            else:
                text += f"; they are stream bytes from {delta} later ({delta} bytes missing)"
        return text

    def finish(self, outcome: str, how: str = "") -> None:
        if self.outcome:  # the first verdict stands
            return
        self.outcome = outcome
        self.how = how
        self.t_end = now()

    def mark_stuck(self) -> None:
        self.finish("stuck", f"still open {self.load.args.stall_grace:.0f} s after the final reset: "
                    f"sent {self.sent}, echoed {self.received}{', EOF sent' if self.eof_sent else ''}")

    def gap(self) -> float:
        # Spread the writes so that all connections together make about
        # --chunk-rate writes per second: bounded CPU on the Python side.
        return min(self.rng.expovariate(self.load.chunk_rate_per_conn), 2.0)

    def chunk_size(self) -> int:
        # Log-uniform over 1 B..64 KiB: as many writes of 1-2 bytes as of 32-64 KiB.
        return min(MAX_CHUNK, int(2 ** self.rng.uniform(0, 16)))


class Load:
    """Keeps about --connections client connections alive, replacing each one
    that ends, and keeps their verdicts."""

    def __init__(self, args, payload: Payload, proxies: list[ProxyState]):
        self.args = args
        self.seed = args.seed
        self.payload = payload
        self.proxies = proxies
        self.window = args.window_kib * KIB
        self.chunk_rate_per_conn = args.chunk_rate / args.connections
        self.rng = random.Random(args.seed * 31 + 7)
        self.next_id = 0
        self.live: set[ClientConnection] = set()
        self.tasks: list[asyncio.Task] = []
        self.spawning = True
        self.finishing = False
        self.bytes_sent = 0
        self.bytes_verified = 0
        self.counts = collections.Counter()
        self.early: list[EarlyClose] = []
        self.corrupt: list[dict] = []
        self.stuck: list[dict] = []
        self.client_errors: list[str] = []

    def start(self) -> None:
        ramp = min(2.0, self.args.connections / 500)  # no SYN storm at the start
        for i in range(self.args.connections):
            self.tasks.append(asyncio.ensure_future(self.slot(i * ramp / self.args.connections)))

    async def slot(self, delay: float) -> None:
        await asyncio.sleep(delay)
        while self.spawning:
            self.next_id += 1
            conn = ClientConnection(self, self.next_id, self.rng.choice(self.proxies))
            self.live.add(conn)
            try:
                await conn.run()
            finally:
                self.live.discard(conn)
                self.account(conn)
            if conn.outcome in ("refused", "client_error"):
                await asyncio.sleep(self.rng.uniform(*REFUSED_BACKOFF))

    def account(self, conn: ClientConnection) -> None:
        outcome = conn.outcome or "early"  # cancelled without a verdict: treated as cut short
        self.counts[outcome] += 1
        if outcome != "refused" and outcome != "client_error":
            self.counts["opened"] += 1
        if outcome in ("early", "refused"):
            self.early.append(EarlyClose(conn.id, conn.proxy.name, conn.t_open, conn.t_end or now(),
                                         conn.sent, conn.received, f"{outcome}: {conn.how}"))
        elif outcome == "corrupt":
            self.corrupt.append(self.record(conn))
        elif outcome == "stuck":
            self.stuck.append(self.record(conn))
        elif outcome == "client_error" and len(self.client_errors) < 10:
            self.client_errors.append(conn.how)

    def record(self, conn: ClientConnection) -> dict:
        return {"conn": conn.id, "proxy": conn.proxy.name, "t_open": conn.t_open, "t_end": conn.t_end,
                "sent": conn.sent, "received": conn.received, "how": conn.how}

    def finish_all(self) -> None:
        """Stop making connections; every live one writes EOF now."""
        self.spawning = False
        self.finishing = True
        for conn in list(self.live):
            conn.wake()

    async def wait_done(self, timeout: float) -> bool:
        deadline = now() + timeout
        while self.live and now() < deadline:
            await asyncio.sleep(0.05)
        return not self.live

    async def abort_rest(self, stuck: bool) -> None:
        for conn in list(self.live):
            if stuck:
                conn.mark_stuck()
            else:
                conn.finish("aborted", "aborted by the soak")
        self.spawning = False
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


# --------------------------------------------------------------------------
# The run

class Soak:
    def __init__(self, args):
        self.args = args
        self.workdir = tempfile.mkdtemp(prefix="faultline-soak-")
        self.recorder = ApiRecorder(args.max_api_ms)
        self.report: dict = {"seed": args.seed, "server": args.server, "connections_target": args.connections,
                             "proxies": args.proxies, "churn_ms": args.churn_ms}
        self.failures: list[str] = []
        self.server: ServerProcess | None = None
        self.echoes: list[Echo] = []
        self.server_death: dict | None = None
        self.report["t0"] = now()  # times in the report are relative to the start of the load

    def fail(self, reason: str) -> None:
        self.failures.append(reason)

    async def run(self) -> int:
        try:
            await self.run_phases()
        except Exception as e:  # a summary all the same, and the server never left running
            if not isinstance(e, RuntimeError):  # ours say all there is to say
                traceback.print_exc()
            self.fail(f"the soak itself failed: {type(e).__name__}: {e}")
        finally:
            for echo in self.echoes:
                echo.close()
            if self.server is not None:
                self.server.kill()
        return self.conclude()

    async def run_phases(self) -> None:
        args = self.args
        raise_fd_limit(2 * args.connections + 256)
        self.echoes = [await Echo().start() for _ in range(args.proxies)]
        binary = await asyncio.to_thread(stable_binary_copy, args.server, self.workdir)
        api_port = free_port()
        self.server = ServerProcess(binary, api_port, args.seed, args.server_arg, self.workdir)
        self.server.start()
        control = ApiClient(api_port, self.recorder)
        if not await self.wait_for_version(control, 20.0):
            return
        proxies = await self.create_proxies(control)
        if proxies is None:
            return
        control.close()  # its socket would count among the server's descriptors
        base_fds = await self.settled_fds()
        base_rss = rss_mib(self.server.pid)
        self.report.update(fds_before=base_fds, rss_before_mib=round(base_rss, 1))

        payload = Payload(args.seed)
        timeline = Timeline([p.name for p in proxies], args.explain_grace_ms / 1000)
        load = Load(args, payload, proxies)
        stop = threading.Event()
        churn = Churn(ApiClient(api_port, self.recorder), proxies, timeline, args.seed, args.churn_ms / 1000, stop,
                      args.toxic_types)

        cpu0, t0 = os.times(), now()
        server_cpu0 = cpu_seconds(self.server.pid)
        self.report["t0"] = t0
        lag_monitor = asyncio.ensure_future(self.measure_loop_lag())
        load.start()
        churn.start()
        await self.watch(t0 + args.duration, churn)
        stop.set()
        await asyncio.to_thread(churn.join, API_TIMEOUT + 5)
        churn.api.close()

        if self.server.alive():
            await self.wind_down(load, control, timeline)
        else:
            await load.abort_rest(stuck=False)
        lag_monitor.cancel()
        elapsed = now() - t0
        self.report["duration_s"] = round(elapsed, 1)
        self.account_cpu(cpu0, elapsed, server_cpu0)
        self.account_load(load, timeline, t0)
        self.account_churn(churn)
        if self.server.alive():
            try:
                await self.final_checks(control, base_fds, base_rss)
            except OSError:  # /proc/PID is gone: it died in the meantime
                if self.server.alive():
                    raise
        self.account_api()
        self.note_death()

    # -- setup

    async def wait_for_version(self, control: ApiClient, timeout: float) -> bool:
        deadline = now() + timeout
        while now() < deadline:
            if not self.server.alive():
                self.note_death()
                return False
            reply = await asyncio.to_thread(control.call, "GET", "/version", None, (200, None))
            if reply.status == 200:
                self.recorder.clear()  # start-up polling is not an API latency figure
                return True
            await asyncio.sleep(0.05)
        self.fail(f"server did not answer GET /version within {timeout:.0f} s")
        return False

    async def create_proxies(self, control: ApiClient) -> list[ProxyState] | None:
        ports = pick_listen_ports(self.args.proxies)
        proxies = [ProxyState(f"soak{i}", ports[i], self.echoes[i].ports, calm=i < self.args.calm_proxies)
                   for i in range(self.args.proxies)]
        for p in proxies:
            body = {"name": p.name, "listen": p.listen, "upstream": p.upstream, "enabled": True}
            reply = await asyncio.to_thread(control.call, "POST", "/proxies", body, (201,))
            if reply.status != 201:
                self.fail(f"POST /proxies {p.name} answered {reply.status}: {reply.error or reply.body}")
                return None
        return proxies

    async def settled_fds(self) -> dict:
        """The descriptor count once two readings 200 ms apart agree (the
        server closes our API connection's socket shortly after we do)."""
        last = fd_snapshot(self.server.pid)
        for _ in range(25):
            await asyncio.sleep(0.2)
            cur = fd_snapshot(self.server.pid)
            if cur == last:
                break
            last = cur
        return last

    # -- the load phase

    async def watch(self, until: float, churn: Churn) -> None:
        """Wait for the end of the run, or for the server to die. Samples
        RSS once a second: a leak grows with time, a cache levels off."""
        series, next_sample = [], now()
        while now() < until:
            if now() >= next_sample:
                try:
                    series.append(round(rss_mib(self.server.pid), 1))
                except OSError:
                    pass  # gone: found out just below
                self.report["rss_peak_mib"] = max(series, default=None)
                self.report["rss_every_5s_mib"] = series[::5]
                next_sample += 1.0
            if not self.server.alive():
                self.server_death = {"t": now(), "exit": self.server.exit_text()}
                return
            if churn.dead_server:
                await asyncio.sleep(0.5)  # it may be dying: give the exit status time to show
                if not self.server.alive():
                    continue
                self.fail(f"an API call got no answer within {API_TIMEOUT:g} s (the server is alive: hung?)")
                return
            await asyncio.sleep(0.1)

    async def measure_loop_lag(self) -> None:
        """How late the event loop runs a timer: the client side's own lag,
        which delays when closes are seen (the explanation grace allows it)."""
        lag_max = 0.0
        while True:
            slept_at = now()
            await asyncio.sleep(0.1)
            lag = now() - slept_at - 0.1
            if lag > lag_max:
                lag_max = lag
                self.report["loop_lag_max_ms"] = round(1000 * lag, 1)
                self.report["loop_lag_max_at"] = round(now() - self.report["t0"], 1)

    async def wind_down(self, load: Load, control: ApiClient, timeline: Timeline) -> None:
        """Reset (every toxic gone, every proxy enabled), then let every
        connection close; those still open after --stall-grace are stuck."""
        reply = await asyncio.to_thread(control.call, "POST", "/reset", None, (204,))
        timeline.end_all(reply.t1)
        self.report["final_reset_status"] = reply.status
        load.finish_all()
        done = await load.wait_done(self.args.stall_grace)
        if not self.server.alive():
            self.server_death = self.server_death or {"t": now(), "exit": self.server.exit_text()}
        await load.abort_rest(stuck=not done and self.server.alive())

    # -- after the load

    async def final_checks(self, control: ApiClient, base_fds: dict, base_rss: float) -> None:
        await self.wait_server_connections(control)
        control.close()
        fds = await self.wait_fds(base_fds)
        rss = rss_mib(self.server.pid)
        rss_limit = max(2 * base_rss, base_rss + self.args.rss_slack_mib)
        self.report.update(fds_after=fds, rss_after_mib=round(rss, 1), rss_limit_mib=round(rss_limit, 1),
                           echo_connections_left=sum(len(e.live) for e in self.echoes))
        if not self.fds_ok(base_fds, fds):
            self.fail(f"descriptors {base_fds['total']} -> {fds['total']} "
                      f"(sockets {base_fds['socket']} -> {fds['socket']}, pipes {base_fds['pipe']} -> {fds['pipe']},"
                      f" other {base_fds['other']} -> {fds['other']})")
        if rss > rss_limit:
            self.fail(f"RSS {base_rss:.1f} -> {rss:.1f} MiB (limit {rss_limit:.1f}, peak during the load "
                      f"{self.report.get('rss_peak_mib', '-')})")
        version = await asyncio.to_thread(ApiClient(control.port, self.recorder).call, "GET", "/version")
        self.report["version_at_end"] = version.body if version.status == 200 else None
        if version.status != 200:
            self.fail(f"GET /version at the end answered {version.status} {version.error}")
        rc = await asyncio.to_thread(self.server.terminate, 15.0)
        self.report["sigterm_exit"] = rc
        if rc != 0:
            self.fail(f"on SIGTERM the server ended with {self.server.exit_text() if rc is not None else 'no exit (killed)'}")

    async def wait_server_connections(self, control: ApiClient) -> None:
        """Until /faultline/stats shows no open connection (a report figure)."""
        deadline = now() + self.args.fd_wait
        while True:
            reply = await asyncio.to_thread(control.call, "GET", "/faultline/stats")
            open_conns = None
            if reply.status == 200 and isinstance(reply.body, dict):
                open_conns = sum(v.get("connections", 0) for v in reply.body.values())
                self.report["server_connect_failures"] = sum(v.get("upstream_connect_failures", 0)
                                                             for v in reply.body.values())
            self.report["server_connections_left"] = open_conns
            if open_conns == 0 or now() >= deadline:
                return
            await asyncio.sleep(0.2)

    def pipe_slack(self) -> int:
        """Idle splice pipes the server may keep: 8 per worker, 2 fds each."""
        workers = os.cpu_count() or 1
        extra = self.args.server_arg
        for i, a in enumerate(extra):
            if a.lstrip("-").startswith("workers"):
                value = a.split("=", 1)[1] if "=" in a else (extra[i + 1] if i + 1 < len(extra) else "0")
                workers = int(value) or workers
        return 2 * 8 * workers

    def fds_ok(self, base: dict, cur: dict) -> bool:
        return (cur["socket"] == base["socket"] and cur["other"] == base["other"]
                and base["pipe"] <= cur["pipe"] <= base["pipe"] + self.pipe_slack())

    async def wait_fds(self, base: dict) -> dict:
        deadline = now() + self.args.fd_wait
        while True:
            cur = fd_snapshot(self.server.pid)
            if self.fds_ok(base, cur) or now() >= deadline:
                return cur
            await asyncio.sleep(0.2)

    # -- figures

    def account_cpu(self, cpu0, elapsed: float, server_cpu0: float) -> None:
        cpu1 = os.times()
        self.report["python_cpu_pct"] = round(100 * (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / elapsed)
        try:
            self.report["server_cpu_pct"] = round(100 * (cpu_seconds(self.server.pid) - server_cpu0) / elapsed)
        except OSError:
            pass

    def account_load(self, load: Load, timeline: Timeline, t0: float) -> None:
        # A close is timed when the event loop gets to it: allow for its lag.
        timeline.grace += self.report.get("loop_lag_max_ms", 0) / 1000
        self.report["explain_grace_ms"] = round(1000 * timeline.grace)
        explained = collections.Counter()
        late = []  # closes seen after their window ended: how much grace is needed
        unexplained = []
        died_at = self.server_death["t"] if self.server_death else math.inf
        after_death = 0
        for e in load.early:
            if e.t_end >= died_at - 0.5:  # the death is the failure; what follows is noise
                after_death += 1
                continue
            w = timeline.explain(e.proxy, e.t_open, e.t_end, e.sent)
            if w is None:
                unexplained.append(e)
                continue
            explained[w.kind] += 1
            if w.end is not None and e.t_end > w.end:
                late.append(e.t_end - w.end)
        for s in load.stuck:  # after the reset nothing may hold a connection
            unexplained.append(EarlyClose(s["conn"], s["proxy"], s["t_open"], s["t_end"], s["sent"],
                                          s["received"], f"stuck: {s['how']}"))
        c = load.counts
        self.report.update(
            connections_opened=c["opened"], connections_completed=c["completed"],
            connections_refused=c["refused"], early_closes=c["early"] + c["refused"],
            explained_closes=sum(explained.values()), explained_by=dict(explained),
            unexplained_closes=len(unexplained), stuck=len(load.stuck), corrupt=len(load.corrupt),
            aborted=c["aborted"], client_errors=c["client_error"], closes_after_death=after_death,
            bytes_sent=load.bytes_sent, bytes_verified=load.bytes_verified,
            close_lag_max_ms=round(1000 * max(late, default=0)),
            quiet_pct={p: round(100 * timeline.quiet_fraction(p, t0, now())) for p in timeline.windows},
            unexplained_first=[self.describe_close(e, t0) for e in unexplained[:10]],
            corrupt_first=[dict(d, t_open=round(d["t_open"] - t0, 3), t_end=round(d["t_end"] - t0, 3))
                           for d in load.corrupt[:10]],
            client_errors_first=load.client_errors)
        if load.corrupt:
            self.fail(f"{len(load.corrupt)} connections got corrupted/duplicated/reordered bytes")
        if unexplained:
            self.fail(f"{len(unexplained)} unexplained closes")
        if c["client_error"]:
            self.fail(f"{c['client_error']} client-side errors (the soak itself ran out of something)")

    def describe_close(self, e: EarlyClose, t0: float) -> dict:
        calls = self.recorder.calls_between(e.t_open - 1.0, e.t_end + 0.5, e.proxy)
        return {"conn": e.conn, "proxy": e.proxy, "t_open": round(e.t_open - t0, 3), "t_end": round(e.t_end - t0, 3),
                "sent": e.sent, "received": e.received, "how": e.how,
                "api_calls_around": [f"{t - t0:.3f} {m} {p} -> {s}" for t, m, p, s in calls[-8:]]}

    def account_churn(self, churn: Churn) -> None:
        c = churn.counts
        self.report.update(toxic_adds=c["toxic_adds"], toxic_updates=c["toxic_updates"],
                           toxic_removes=c["toxic_removes"], toggles=c["toggles"], populates=c["populates"],
                           populate_changes=c["populate_changes"], resets=c["resets"], reads=c["reads"],
                           inconsistencies=c["inconsistencies"], inconsistencies_first=churn.inconsistencies,
                           churn_wake_late_max_ms=round(churn.wake_late_ms, 1),
                           churn_wake_late_max_at=round(churn.wake_late_at - self.report["t0"], 1))

    def account_api(self) -> None:
        lat = self.recorder.latencies_ms()
        slow = self.recorder.slow_calls()
        failures = self.recorder.failures
        pct = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 1) if lat else None
        self.report.update(api_calls=len(lat), api_p50_ms=pct(0.5), api_p99_ms=pct(0.99),
                           api_max_ms=round(lat[-1], 1) if lat else None, api_over_max=len(slow),
                           api_wall_max_ms=round(self.recorder.wall_max_ms(), 1),
                           api_slow_first=[dict(s, t=round(s["t"] - self.report.get("t0", 0), 3)) for s in slow[:10]],
                           api_errors=len(failures),
                           api_errors_first=[dict(f, t=round(f["t"] - self.report.get("t0", 0), 3))
                                             for f in failures[:10]])
        if slow:
            self.fail(f"{len(slow)} API calls over {self.args.max_api_ms:g} ms (max {lat[-1]:.0f} ms)")
        if failures and not self.server_death:
            self.fail(f"{len(failures)} API calls failed or answered an unexpected status")

    def note_death(self) -> None:
        if self.server is None or self.server.alive() or self.report.get("sigterm_exit") is not None:
            return
        death = self.server_death or {"t": now(), "exit": self.server.exit_text()}
        self.report["server_died"] = {"t": round(death["t"] - self.report.get("t0", death["t"]), 3),
                                      "exit": death["exit"], "log_tail": self.server.log_tail()}
        self.fail(f"server died during the run ({death['exit']})")

    def conclude(self) -> int:
        self.report["failures"] = self.failures
        self.report["result"] = "PASS" if not self.failures else "FAIL"
        self.report.pop("t0", None)
        self.report["server_log"] = self.server.log_path if self.server else None
        print_summary(self.report)
        if self.args.json:
            with open(self.args.json, "w") as f:
                json.dump(self.report, f, indent=2)
                f.write("\n")
        if not self.failures and not self.args.keep_log:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return 0 if not self.failures else 1


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(needed, soft)), hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        raise SystemExit(f"soak: need {needed} descriptors, the limit is {soft} (lower --connections)")


# --------------------------------------------------------------------------
# Output

def human_bytes(n: int) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


def fds_text(d: dict | None) -> str:
    if not d:
        return "-"
    return f"{d['total']} (sockets {d['socket']}, pipes {d['pipe']}, other {d['other']})"


def print_summary(r: dict) -> None:
    g = lambda k, default="-": r.get(k, default) if r.get(k) is not None else default
    lines = [
        "",
        f"faultline soak: seed {r['seed']}, {g('duration_s')} s, {r['connections_target']} connections, "
        f"{r['proxies']} proxies, churn every {r['churn_ms']:g} ms",
        f"  connections  opened {g('connections_opened', 0)}  completed {g('connections_completed', 0)}  "
        f"early closes {g('early_closes', 0)} incl. {g('connections_refused', 0)} refused connects "
        f"(explained {g('explained_closes', 0)}, unexplained {g('unexplained_closes', 0)})  "
        f"stuck {g('stuck', 0)}  corrupt {g('corrupt', 0)}",
        f"  explained by {json.dumps(r.get('explained_by', {}), sort_keys=True)}",
        f"  quiet time   {json.dumps(r.get('quiet_pct', {}))} (% of the run in which an early close was a failure)",
        f"  bytes        sent {human_bytes(g('bytes_sent', 0))}  verified {human_bytes(g('bytes_verified', 0))}",
        f"  churn        toxics added {g('toxic_adds', 0)} updated {g('toxic_updates', 0)} "
        f"removed {g('toxic_removes', 0)}  toggles {g('toggles', 0)}  populates {g('populates', 0)} "
        f"(changed {g('populate_changes', 0)})  resets {g('resets', 0)}  reads {g('reads', 0)}",
        f"  api          calls {g('api_calls', 0)}  errors {g('api_errors', 0)}  p50 {g('api_p50_ms')} ms  "
        f"p99 {g('api_p99_ms')} ms  max {g('api_max_ms')} ms  over limit {g('api_over_max', 0)}  "
        f"(kernel-timed; with our own scheduling: max {g('api_wall_max_ms')} ms)",
        f"  server fds   before {fds_text(r.get('fds_before'))}  after {fds_text(r.get('fds_after'))}",
        f"  server rss   before {g('rss_before_mib')} MiB  after {g('rss_after_mib')} MiB "
        f"(limit {g('rss_limit_mib')} MiB), peak during the load {g('rss_peak_mib')} MiB",
        f"  cpu          python {g('python_cpu_pct')}%  server {g('server_cpu_pct')}%  "
        f"(event loop late by up to {g('loop_lag_max_ms')} ms, churn thread by up to "
        f"{g('churn_wake_late_max_ms')} ms)",
        f"  server       end: {'answering, SIGTERM exit ' + str(r['sigterm_exit']) if 'sigterm_exit' in r else 'not answering'}"
        f"  open connections after the run {g('server_connections_left')}",
    ]
    if r.get("inconsistencies"):
        lines.append(f"  warning: {r['inconsistencies']} API answers differed from the soak's model:")
        lines += [f"    {t}" for t in r["inconsistencies_first"]]
    for title, key in (("unexplained closes (first 10)", "unexplained_first"),
                       ("corrupt connections (first 10)", "corrupt_first"),
                       ("slow API calls (first 10)", "api_slow_first"),
                       ("failed API calls (first 10)", "api_errors_first"),
                       ("client-side errors", "client_errors_first")):
        if r.get(key):
            lines.append(f"  {title}:")
            for item in r[key]:
                if not isinstance(item, dict):
                    lines.append(f"    {item}")
                    continue
                lines.append("    " + json.dumps({k: v for k, v in item.items() if k != "api_calls_around"}))
                lines += [f"      api: {c}" for c in item.get("api_calls_around", [])]
    if r.get("server_died"):
        d = r["server_died"]
        lines.append(f"  SERVER DIED at t={d['t']} s: {d['exit']}; last lines of its log ({r['server_log']}):")
        lines += [f"    | {line}" for line in d["log_tail"]] or ["    (the log is empty)"]
        lines.append(f"  closes after the death (not counted as unexplained): {g('closes_after_death', 0)}")
    elif r["failures"] and r.get("server_log"):
        lines.append(f"  server log kept: {r['server_log']}")
    lines.append(f"soak: PASS" if not r["failures"] else f"soak: FAIL ({'; '.join(r['failures'])})")
    print("\n".join(lines), flush=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    # The churn thread shares the GIL with the event loop; with the default
    # 5 ms switch interval each of its wake-ups could wait that long, which
    # would stretch its ticks. 1 ms keeps it close to --churn-ms.
    sys.setswitchinterval(0.001)
    print(f"soak: seed {args.seed}, {args.duration:g} s, {args.connections} connections, "
          f"{args.proxies} proxies, server {args.server}", flush=True)
    soak = Soak(args)
    try:
        return asyncio.run(soak.run())
    except KeyboardInterrupt:
        if soak.server is not None:
            soak.server.kill()
        print("soak: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
