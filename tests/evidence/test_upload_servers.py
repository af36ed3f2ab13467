"""Evidence uploads against the real servers: ``mla serve`` (cheroot) and gunicorn (gthread),
each started as a process on a free loopback port over its own instance folder.

DESIGN.md: plaintext exists only in memory, a bounded buffer at a time, and the size limit
stops the stream as it is exceeded. These tests attack that promise where it can break: while
an upload is in flight they read every regular file the server processes hold open (deleted
temporaries included, through ``/proc/<pid>/fd``) and every file under the instance and
temporary folders, looking for the plaintext; they refuse over-limit streams, cut uploads
short, and kill the server mid-upload.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from mla.evidence.storage import FilesystemStore, new_storage_key

BIN = Path(sys.executable).parent
MIB = 1 << 20
BOUNDARY = "mla-test-boundary-7e3f"
DEMO_USER, DEMO_PASSWORD = "arg.clerk", "demo-mla-2026"


# --- the plaintext and the search for it ----------------------------------------------------


def plaintext(size: int, magic: bytes) -> bytes:
    """``size`` bytes of 32-byte records, each an 8-byte ``magic`` then 24 random bytes: any
    64-byte window of it holds a whole record, so finding ``magic`` finds any such window."""
    assert len(magic) == 8 and size % 32 == 0
    n = size // 32
    out = bytearray(size)
    noise = os.urandom(n * 24)
    for i in range(8):
        out[i::32] = bytes([magic[i]]) * n
    for j in range(24):
        out[8 + j :: 32] = noise[j::24]
    return bytes(out)


def _holds(path: str | Path, magic: bytes) -> bool:
    with open(path, "rb") as f:
        tail = b""
        while chunk := f.read(4 * MIB):
            if magic in tail + chunk:
                return True
            tail = chunk[-(len(magic) - 1) :]
    return False


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


@dataclass
class Scan:
    files: list[str] = field(default_factory=list)  # every regular file looked into
    leaks: list[str] = field(default_factory=list)  # those holding plaintext


def scan(pids: list[int], folders: list[Path], magic: bytes) -> Scan:
    """Every regular file the processes ``pids`` hold open (read through the fd, so deleted
    ones too) and every file under ``folders``, searched for ``magic``."""
    result = Scan()
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            fds = list(fd_dir.iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if not stat.S_ISREG(os.stat(fd).st_mode):
                    continue
                target = os.readlink(fd)
                result.files.append(target)
                if _holds(fd, magic):
                    result.leaks.append(f"pid {pid} fd {fd.name} -> {target}")
            except OSError:
                continue  # closed meanwhile
    for folder in folders:
        for path in folder.rglob("*"):
            try:
                if path.is_file() and _holds(path, magic):
                    result.leaks.append(str(path))
            except OSError:
                continue
    return result


# --- servers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mla(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "mla"), *args], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """An instance folder with the demo data and an API token of ARG-DAJIN, copied per test."""
    instance = tmp_path_factory.mktemp("template") / "instance"
    env = {**os.environ, "MLA_INSTANCE_DIR": str(instance)}
    env.pop("MLA_DATABASE_URL", None)
    for args in (("init",), ("demo",)):
        done = mla(env, *args)
        assert done.returncode == 0, done.stderr
    done = mla(env, "tokens", "create", "ARG-DAJIN", "--role", "supervisor")
    assert done.returncode == 0, done.stderr
    return instance, done.stdout.split()[-1]


@dataclass
class Server:
    kind: str
    proc: subprocess.Popen[bytes]
    port: int
    instance: Path
    tmp: Path
    token: str
    env: dict[str, str]
    log: Path

    @property
    def evidence(self) -> Path:
        return self.instance / "evidence"

    def pids(self) -> list[int]:
        return process_tree(self.proc.pid)

    def api(self, method: str, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(
                method, f"/api/v1{path}", headers={"Authorization": f"Bearer {self.token}"}
            )
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def api_json(self, path: str) -> dict:
        status, body = self.api("GET", path)
        assert status == 200, body
        return json.loads(body)

    def attachments(self, reference: str) -> list[dict]:
        return self.api_json(f"/requests/{reference}/attachments")["items"]

    def reference(self) -> str:
        """A request of ARG-DAJIN whose evidence its clerk may upload."""
        for item in self.api_json("/requests?limit=100")["items"]:
            ref = item["reference"]
            if self.api("GET", f"/requests/{ref}/attachments")[0] == 200:
                return ref
        raise AssertionError("no demo request open to ARG-DAJIN's evidence")

    def blobs(self) -> list[Path]:
        return sorted(p for p in self.evidence.rglob("*") if p.is_file())


def start(kind: str, template: tuple[Path, str], tmp_path: Path, **settings: str) -> Server:
    source, token = template
    instance = tmp_path / "instance"
    shutil.copytree(source, instance)
    spool = tmp_path / "tmp"
    spool.mkdir()
    port = free_port()
    env = {**os.environ, "MLA_INSTANCE_DIR": str(instance), "TMPDIR": str(spool), **settings}
    env.pop("MLA_DATABASE_URL", None)
    if kind == "serve":
        command = [str(BIN / "mla"), "serve", "--port", str(port), "--threads", "4"]
    else:
        command = [
            str(BIN / "gunicorn"),
            *("-k", "gthread", "-w", "2", "--threads", "2"),
            *("-b", f"127.0.0.1:{port}", "mla:create_app()"),
        ]
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(kind, proc, port, instance, spool, token, env, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{kind} did not answer: {log.read_text()}")


def stop(server: Server) -> None:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(60)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(30)


@pytest.fixture
def launch(template, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start a server: ``launch(kind, **settings)``; each gets its own copy of the template."""
    started: list[Server] = []

    def make(kind: str = "serve", **settings: str) -> Server:
        folder = tmp_path / f"server{len(started)}"
        folder.mkdir()
        started.append(start(kind, template, folder, **settings))
        return started[-1]

    yield make
    for s in started:
        stop(s)


# --- clients --------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    sent: int  # bytes of the file sent before the answer came
    raw_headers: list[tuple[str, str]]

    def json(self) -> dict:
        return json.loads(self.body)


def raw_upload(
    port: int,
    path: str,
    data: bytes,
    *,
    headers: dict[str, str],
    fields: dict[str, str] | None = None,
    chunked: bool = False,
    declared_length: int | None = None,
    chunk: int = MIB,
    progress: Callable[[int], bool | None] | None = None,
) -> Response | socket.socket:
    """POST ``data`` as form field ``file`` through a raw socket, ``chunk`` bytes at a time,
    calling ``progress(bytes_sent)`` after each (it may pause the upload to look around; if it
    returns True the socket is handed back mid-upload). Stops sending when an answer comes."""
    head = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in (fields or {}).items()
    )
    head += (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; "
        'name="file"; filename="bank-records.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    else:
        length = declared_length or len(head) + len(data) + len(tail)
        lines.append(f"Content-Length: {length}")
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)

    def frame(piece: bytes) -> bytes:
        return b"%x\r\n%s\r\n" % (len(piece), piece) if chunked and piece else piece

    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + frame(head))
    sent = 0
    answered = False
    while sent < len(data):
        readable, _, _ = select.select([sock], [], [], 0)
        if readable:
            answered = True
            break
        piece = data[sent : sent + chunk]
        try:
            sock.sendall(frame(piece))
        except (BrokenPipeError, ConnectionResetError):
            answered = True
            break
        sent += len(piece)
        if progress is not None and progress(sent):
            return sock
    if not answered:
        sock.sendall(frame(tail) + (b"0\r\n\r\n" if chunked else b""))
    response = http.client.HTTPResponse(sock)
    response.begin()
    body = response.read()
    sock.close()
    raw = response.getheaders()
    return Response(response.status, {k.lower(): v for k, v in raw}, body, sent, raw)


def api_upload(server: Server, reference: str, data: bytes, **kwargs) -> Response:
    headers = {"Authorization": f"Bearer {server.token}", **kwargs.pop("headers", {})}
    result = raw_upload(
        server.port, f"/api/v1/requests/{reference}/attachments", data, headers=headers, **kwargs
    )
    assert isinstance(result, Response)
    return result


class Browser:
    """A signed-in clerk of ARG-DAJIN (Spanish UI), keeping the session cookie."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        form = {
            "username": DEMO_USER,
            "password": DEMO_PASSWORD,
            "csrf_token": csrf(self.get("/login")),
        }
        status, headers, _ = self.request(
            "POST",
            "/login",
            urllib.parse.urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert status in (302, 303) and "/login" not in headers["location"], "sign-in failed"

    def remember(self, headers: list[tuple[str, str]]) -> None:
        for name, value in headers:
            if name.lower() == "set-cookie":
                jar: SimpleCookie = SimpleCookie()
                jar.load(value)
                self.cookies.update({m.key: m.value for m in jar.values()})

    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body, {"Cookie": self.cookie(), **(headers or {})})
            response = conn.getresponse()
            self.remember(response.getheaders())
            return (
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.read(),
            )
        finally:
            conn.close()

    def get(self, path: str) -> str:
        status, _, body = self.request("GET", path)
        assert status == 200, (path, status)
        return body.decode()

    def upload(self, reference: str, data: bytes, **kwargs) -> Response:
        token = csrf(self.get(f"/requests/{reference}"))
        result = raw_upload(
            self.port,
            f"/requests/{reference}/evidence",
            data,
            headers={"Cookie": self.cookie()},
            fields={"csrf_token": token},
            **kwargs,
        )
        assert isinstance(result, Response)
        self.remember(result.raw_headers)
        return result


def csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def download(server: Server, reference: str, attachment_id: int) -> bytes:
    status, body = server.api("GET", f"/requests/{reference}/attachments/{attachment_id}")
    assert status == 200, body
    return body


def scanning(server: Server, magic: bytes, at: set[int]) -> tuple[Callable[[int], None], list]:
    """A ``progress`` callback that scans the server whenever the bytes sent pass a mark."""
    scans: list[Scan] = []
    marks = sorted(at)

    def look(sent: int) -> None:
        if marks and sent >= marks[0]:
            marks.pop(0)
            # Give the server the bytes just sent before looking (no assertion on time: a
            # late look only sees more of the upload).
            time.sleep(0.5)
            scans.append(scan(server.pids(), [server.instance, server.tmp], magic))

    return look, scans


# --- the tests ------------------------------------------------------------------------------

SIZE = 48 * MIB


@pytest.mark.slow
@pytest.mark.parametrize("via", ["api", "web"])
@pytest.mark.parametrize("kind", ["serve", "gunicorn"])
def test_no_plaintext_reaches_a_file_during_an_upload(launch, kind: str, via: str) -> None:
    server = launch(kind)
    magic = os.urandom(8)
    data = plaintext(SIZE, magic)
    reference = server.reference()
    look, scans = scanning(server, magic, {8 * MIB, 24 * MIB, 40 * MIB})
    if via == "api":
        response = api_upload(server, reference, data, progress=look)
        assert response.status == 201, response.body
        attachment_id = response.json()["id"]
    else:
        response = Browser(server.port).upload(reference, data, progress=look)
        assert response.status == 303, response.body
        attachment_id = server.attachments(reference)[-1]["id"]
    assert len(scans) == 3
    for s in scans:
        assert s.leaks == [], s.leaks
    # The scans did see the upload's own partial blob: they look where a spool would be.
    assert any(".tmp" in f and str(server.evidence) in f for s in scans for f in s.files)
    after = scan(server.pids(), [server.instance, server.tmp], magic)
    assert after.leaks == []
    assert hashlib.sha256(download(server, reference, attachment_id)).digest() == (
        hashlib.sha256(data).digest()
    )


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["serve", "gunicorn"])
def test_an_upload_over_the_limit_is_refused_as_it_crosses_it(launch, kind: str) -> None:
    limited = launch(kind, MLA_MAX_UPLOAD_MB="4")
    reference = limited.reference()
    before = limited.blobs()
    data = os.urandom(64 * MIB)
    # Chunked: no length to refuse up front, so only the stream can cross the limit.
    response = api_upload(limited, reference, data, chunked=True, chunk=256 * 1024)
    assert response.status == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "file"
    assert "4 MiB" in response.json()["errors"][0]["message"]
    assert response.sent < len(data)  # refused while the client was still sending
    assert limited.blobs() == before
    assert limited.attachments(reference) == []

    # A declared length over the limit is refused before any of the body is read.
    response = api_upload(limited, reference, data)
    assert response.status == 413 and response.json()["errors"][0]["field"] == "file"

    browser = Browser(limited.port)
    response = browser.upload(reference, data, chunked=True, chunk=256 * 1024)
    assert response.status == 303
    assert response.sent < len(data)
    page = browser.get(f"/requests/{reference}")
    assert "No se hizo: file: el archivo supera el límite de 4 MiB" in page
    assert limited.blobs() == before
    assert limited.attachments(reference) == []


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.2)


def _partial(server: Server) -> list[Path]:
    return [p for p in server.blobs() if p.name.endswith(".tmp")]


def test_mla_serve_has_no_body_cap_of_its_own_and_a_cut_upload_leaves_nothing(launch) -> None:
    server = launch("serve")  # the default limit, 2048 MiB
    reference = server.reference()
    declared = (1 << 30) + 64 * MIB  # waitress refused anything over 1 GiB itself

    def until_streaming(sent: int) -> bool:
        if sent < 4 * MIB:
            return False
        _wait_for(lambda: bool(_partial(server)), "the app encrypting the body")
        return True

    sock = raw_upload(
        server.port,
        f"/api/v1/requests/{reference}/attachments",
        os.urandom(8 * MIB),
        headers={"Authorization": f"Bearer {server.token}"},
        declared_length=declared,
        progress=until_streaming,
    )
    assert isinstance(sock, socket.socket)
    readable, _, _ = select.select([sock], [], [], 0)
    assert not readable  # no answer: the body is being taken in, not refused
    sock.close()  # the client goes away mid-upload
    _wait_for(lambda: not server.blobs(), "the partial blob removed")
    assert server.attachments(reference) == []


@pytest.mark.slow
def test_a_crash_mid_upload_leaves_leftovers_that_start_and_sweep_remove(launch) -> None:
    server = launch("serve")
    reference = server.reference()
    kept = api_upload(server, reference, os.urandom(3 * MIB))
    assert kept.status == 201
    [kept_blob] = server.blobs()

    def crash(sent: int) -> bool:
        if sent < 16 * MIB:
            return False
        _wait_for(lambda: bool(_partial(server)), "the upload's partial blob")
        server.proc.kill()  # kill -9 mid-upload
        server.proc.wait(30)
        return True

    sock = raw_upload(
        server.port,
        f"/api/v1/requests/{reference}/attachments",
        os.urandom(64 * MIB),
        headers={"Authorization": f"Bearer {server.token}"},
        progress=crash,
    )
    assert isinstance(sock, socket.socket)
    sock.close()
    [partial] = _partial(server)
    assert partial.stat().st_size > MIB  # ciphertext of what arrived, left forever before
    # A blob written just before a commit that never came: complete, and no row names it.
    store = FilesystemStore(server.evidence)
    orphan = new_storage_key()
    with store.writer(orphan) as f:
        f.write(os.urandom(4096))
    young = new_storage_key()
    with store.writer(young) as f:
        f.write(os.urandom(4096))
    two_hours_ago = time.time() - 7200
    for path in (partial, store.root / orphan[:2] / orphan, kept_blob):
        os.utime(path, (two_hours_ago, two_hours_ago))

    # At start (mla worker; mla serve calls the same sweep): only what is an hour old goes.
    done = mla(server.env, "worker", "--once")
    assert done.returncode == 0, done.stderr
    assert f"removed partial evidence blob {partial.parent.name}/{partial.name}" in done.stdout
    assert f"removed evidence blob {orphan}: no attachment references it" in done.stdout
    assert not partial.exists() and not store.exists(orphan)
    assert store.exists(young) and kept_blob.exists()

    done = mla(server.env, "evidence", "sweep", "--older-than", "0", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert f"would remove evidence blob {young}" in done.stdout
    assert store.exists(young)
    done = mla(server.env, "evidence", "sweep", "--older-than", "0")
    assert done.returncode == 0, done.stderr
    assert "removed 0 partial and 1 orphan blob(s)" in done.stdout
    assert not store.exists(young)
    assert server.blobs() == [kept_blob]  # referenced by a row: never touched, whatever its age
    done = mla(server.env, "evidence", "verify", "--all")
    assert done.returncode == 0, done.stdout + done.stderr
