"""What does waiting for headers outside the request threads cost a well-behaved client?

    python bench/server_gate.py [--requests 2000] [--stalled 200]

Serves a WSGI app that answers "ok" at once, first under plain cheroot (the floor: cheroot
as it comes, the same threads, no header gate), then under `make_server` from mla/server.py
(cheroot with the header gate), on free loopback ports, and times `--requests` requests made
one after another, each on a new connection, the case the gate adds most to: a GET, and a
form whose body follows its headers in a second packet. Prints the
median, 99th percentile and slowest request for each and the gate's against the floor's. Then,
with `--stalled` clients holding connections whose headers never finish, times the same
requests again under the gate (the floor cannot answer at all then: every thread waits).
Prints figures, never asserts.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from cheroot import wsgi

from mla.server import make_server

THREADS = 8


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


@contextmanager
def serving(server: wsgi.Server) -> Iterator[int]:
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server.bind_addr[1]
    finally:
        server.stop()
        thread.join(timeout=10)


GET = (b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n",)
# A form as browsers may send one: the headers, then the body in a second packet.
POST = (
    b"POST / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\nContent-Length: 40\r\n\r\n",
    b"csrf_token=0123456789&username=clerk&x=1",
)


def times(port: int, count: int, request: tuple[bytes, ...] = GET) -> list[float]:
    out = []
    for _ in range(count):
        start = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for part in request:
                sock.sendall(part)
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
        out.append(time.perf_counter() - start)
        assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"ok"), answer
    return out


def show(label: str, seconds: list[float], floor: list[float]) -> None:
    median = statistics.median(seconds)
    p99 = statistics.quantiles(seconds, n=100)[-1]
    ratio = median / statistics.median(floor)
    print(
        f"{label:<34} median {median * 1e3:6.3f} ms  p99 {p99 * 1e3:7.3f} ms"
        f"  max {max(seconds) * 1e3:7.3f} ms  x{ratio:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--stalled", type=int, default=200)
    args = parser.parse_args()

    plain = wsgi.Server(("127.0.0.1", 0), app, numthreads=THREADS, server_name="floor")
    with serving(plain) as port:
        times(port, 100)  # warm up
        floor = times(port, args.requests)
        floor_post = times(port, args.requests, POST)
    with serving(make_server(app, "127.0.0.1", 0, THREADS)) as port:
        times(port, 100)
        gated = times(port, args.requests)
        gated_post = times(port, args.requests, POST)
        stalled = []
        for _ in range(args.stalled):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\n")  # and never the end
            stalled.append(sock)
        time.sleep(0.5)
        under_attack = times(port, args.requests)
        for sock in stalled:
            sock.close()
    show("plain cheroot (floor)", floor, floor)
    show("mla serve's server", gated, floor)
    show("plain cheroot, form in two packets", floor_post, floor_post)
    show("mla serve's, form in two packets", gated_post, floor_post)
    show(f"mla serve's, {args.stalled} clients stalled", under_attack, floor)


if __name__ == "__main__":
    main()
