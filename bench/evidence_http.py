"""Evidence over HTTP: upload and download through the real servers, beside the same server
receiving and sending the same bytes with nothing else to do.

    .venv/bin/python bench/evidence.py --http [--size 512] [--runs 2]
    .venv/bin/python bench/evidence_http.py [--size 512] [--runs 2]

*Ours*: ``POST /api/v1/requests/{ref}/attachments`` (multipart, field ``file``: streamed from
the socket into the evidence intake, encrypted, fsynced, its row and custody event committed)
and ``GET .../attachments/{id}`` (decrypted and verified segment by segment as it is sent),
with a bearer token, on SQLite. Served by ``mla serve`` (cheroot, the server it runs) and by
gunicorn (one gthread worker, 4 threads). *Floor*: a WSGI app on the same server that reads
and discards the request body in the intake's chunk size (64 KiB), and sends the same number
of bytes from memory in the download's segment size (1 MiB); for comparison, the same
floor also writing the body to a file on the same disk and fsyncing it (the service must
make the blob durable before it answers). The client (this process)
sends from one repeated random block and reads into a reused buffer. Best of ``--runs``,
alternating. Prints MiB/s, the ratio ours/floor (issue #18's target: >= 0.7 both ways) and
the server process's peak memory growth during the transfers (``VmHWM`` after, less
``VmRSS`` before, from ``/proc``; target < 64 MiB).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
BOUNDARY = "mla-bench-boundary-7f3a"
BLOCK = 1 << 20
FIELDS = {
    "conducting_authority": "Fiscalía Federal N.º 3",
    "proceeding_type": "investigation",
    "subject": "Lavado de activos",
    "assistance_types": ["records"],
    "facts": "Transferencias.",
    "assistance_sought": "Extractos bancarios.",
    "purpose": "Acreditar el origen de los fondos.",
    "language": "es",
}


# --- the floor: the same server, nothing but the bytes ----------------------------------------


def floor_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    """POST: read the body in the intake's chunk size and drop it. GET /<n>: send ``n``
    bytes from memory in the download's segment size."""
    from mla.evidence.crypto import SEGMENT_SIZE
    from mla.evidence.multipart import CHUNK

    if environ["REQUEST_METHOD"] == "POST":
        stream, left = environ["wsgi.input"], int(environ.get("CONTENT_LENGTH") or 0)
        # /store: also write the bytes to a file on the evidence's disk and fsync it, as the
        # service must before it answers (the disk's share of an upload, for comparison).
        store = environ["PATH_INFO"] == "/store"
        with tempfile.TemporaryFile(dir=os.environ["MLA_INSTANCE_DIR"]) as out:
            while left > 0:
                chunk = stream.read(min(CHUNK, left))
                if not chunk:
                    break
                left -= len(chunk)
                if store:
                    out.write(chunk)
            if store:
                out.flush()
                os.fsync(out.fileno())
        start_response("201 Created", [("Content-Type", "application/json")])
        return [b'{"ok": true}']
    total = int(environ["PATH_INFO"].strip("/") or 0)
    block = os.urandom(SEGMENT_SIZE)

    def body() -> Iterator[bytes]:
        left = total
        while left > 0:
            yield block[: min(left, len(block))]
            left -= len(block)

    start_response(
        "200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(total))]
    )
    return body()


def serve_floor(port: int) -> None:
    from mla.server import make_server, serve_until_stopped

    server = make_server(floor_app, "127.0.0.1", port, 4)
    server.prepare()
    serve_until_stopped(server)


# --- servers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(kind: str, app: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    if kind == "cheroot" and app == "mla":
        cmd = [str(BIN / "mla"), "serve", "--port", str(port), "--threads", "4"]
    elif kind == "cheroot":
        cmd = [sys.executable, __file__, "--serve-floor", str(port)]
    else:
        target = "mla:create_app()" if app == "mla" else "evidence_http:floor_app"
        cmd = [str(BIN / "gunicorn"), "-w", "1", "-k", "gthread", "--threads", "4",
               "-b", f"127.0.0.1:{port}", "--pythonpath", str(ROOT / "bench"),
               "--timeout", "600", "--log-level", "warning", target]  # fmt: skip
    server = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120  # a loaded machine imports slowly
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"{' '.join(cmd)} exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server, port
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit(f"{' '.join(cmd)} did not start")


def serving_pid(server: subprocess.Popen[bytes]) -> int:
    """The process that runs the app: the server itself, or gunicorn's one worker."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return int(children[0]) if children else server.pid


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


# --- the client ------------------------------------------------------------------------------


def upload(port: int, path: str, headers: dict[str, str], size: int, block: bytes) -> Any:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        'filename="bench.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()

    def body() -> Iterator[bytes]:
        yield head
        left = size
        while left > 0:
            yield block[: min(left, len(block))]
            left -= len(block)
        yield tail

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("POST", path, body=body(), headers={
        **headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(len(head) + size + len(tail)),
    })  # fmt: skip
    response = conn.getresponse()
    answer = response.read()
    conn.close()
    if response.status != 201:
        raise SystemExit(f"upload: {response.status} {answer[:300]!r}")
    return json.loads(answer)


def download(port: int, path: str, headers: dict[str, str], size: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    if response.status != 200:
        raise SystemExit(f"download: {response.status} {response.read()[:300]!r}")
    buffer, got = bytearray(BLOCK), 0
    while n := response.readinto(buffer):
        got += n
    conn.close()
    if got != size:
        raise SystemExit(f"download: {got} bytes, expected {size}")


# --- the run ---------------------------------------------------------------------------------


def seed(env: dict[str, str]) -> tuple[str, str]:
    """A migrated database with one draft request and an API token; (reference, token)."""
    from mla import create_app, migrate
    from mla.app_services import request_service
    from mla.authorities import service as authorities
    from mla.authorities import tokens
    from mla.db import unit_of_work
    from mla.requests.service import Actor

    app = create_app({k: v for k, v in env.items() if k.startswith("MLA_")})
    db = app.extensions["mla.db"]
    migrate.upgrade(db.engine)
    with app.app_context(), unit_of_work() as session:
        arg = authorities.add_authority(
            session, "ARG-DAJIN", country="AR", name="DAJIN", languages=["es"]
        )
        authorities.add_authority(session, "MEX-FGR", country="MX", name="FGR", languages=["es"])
        request = request_service().create(
            Actor(authority=arg, role=authorities.Role.CLERK), kind="mla",
            requested_authority="MEX-FGR", legal_basis="untoc-18", fields=FIELDS,
        )  # fmt: skip
        _row, token = tokens.create(session, arg)
        result = (request.reference, token)
    db.engine.dispose()
    return result


def measure(kind: str, env: dict[str, str], reference: str, token: str, size: int,
            runs: int) -> None:  # fmt: skip
    block = os.urandom(BLOCK)
    auth = {"Authorization": f"Bearer {token}"}
    api = f"/api/v1/requests/{reference}/attachments"
    ours, ours_port = start(kind, "mla", env)
    floor, floor_port = start(kind, "floor", env)
    try:
        # Warm up both (imports, first connection, the first upload's code paths).
        first = upload(ours_port, api, auth, 1 << 20, block)
        download(ours_port, f"{api}/{first['id']}", auth, 1 << 20)
        upload(floor_port, "/", {}, 1 << 20, block)
        download(floor_port, f"/{1 << 20}", {}, 1 << 20)
        pid = serving_pid(ours)
        before = memory_kib(pid, "VmRSS")
        times: dict[str, list[float]] = {k: [] for k in ("fu", "fs", "ou", "fd", "od")}
        uploaded: list[int] = []
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("fu", lambda: upload(floor_port, "/", {}, size, block)),
            ("fs", lambda: upload(floor_port, "/store", {}, size, block)),
            ("ou", lambda: uploaded.append(upload(ours_port, api, auth, size, block)["id"])),
            ("fd", lambda: download(floor_port, f"/{size}", {}, size)),
            ("od", lambda: download(ours_port, f"{api}/{uploaded[-1]}", auth, size)),
        ]
        for n in range(runs):
            # Swap the order every run: disk writeback of one must not always hit the other.
            order = steps if n % 2 == 0 else [steps[2], steps[1], steps[0], steps[4], steps[3]]
            for key, step in order:
                t0 = time.perf_counter()
                step()
                times[key].append(time.perf_counter() - t0)
        growth = (memory_kib(pid, "VmHWM") - before) / 1024
    finally:
        for server in (ours, floor):
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    mib = size / (1 << 20)
    fu, fs, ou, fd, od = (min(times[k]) for k in ("fu", "fs", "ou", "fd", "od"))
    print(f"{kind:8s} upload  : floor {mib / fu:6.0f} MiB/s  ours {mib / ou:6.0f} MiB/s  "
          f"ratio {fu / ou:.2f}  (floor writing and fsyncing too: {mib / fs:.0f} MiB/s, "
          f"ratio {fs / ou:.2f})")  # fmt: skip
    print(f"{kind:8s} download: floor {mib / fd:6.0f} MiB/s  ours {mib / od:6.0f} MiB/s  "
          f"ratio {fd / od:.2f}   server peak growth {growth:.0f} MiB")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=512, help="MiB per file")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--servers", default="cheroot,gunicorn")
    parser.add_argument("--serve-floor", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_floor:
        serve_floor(args.serve_floor)
        return
    with tempfile.TemporaryDirectory(prefix="mla-bench-http-") as tmp:
        env = {
            **os.environ,
            "MLA_INSTANCE_DIR": str(Path(tmp) / "instance"),
            "MLA_API_RATE": "1000000/second",
            "MLA_SECRET_KEY": secrets.token_hex(32),
            "MLA_WORKER_INTERVAL": "3600",
        }
        env.pop("MLA_DATABASE_URL", None)
        reference, token = seed(env)
        print(f"evidence over HTTP, {args.size} MiB, best of {args.runs} (SQLite, {tmp})")
        for kind in args.servers.split(","):
            measure(kind, env, reference, token, args.size << 20, args.runs)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
