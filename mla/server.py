"""The WSGI server that ``mla serve`` runs: cheroot, threaded, in one process.

Why cheroot: it is pure Python, and it hands the app ``wsgi.input`` as a reader over the
socket itself, never spooling a request body to a temporary file (waitress writes every body
over 512 KB to one, which would put evidence in clear on disk); nor does it impose a body
limit of its own (``max_request_body_size`` is 0, unlimited), so ``MLA_MAX_UPLOAD_MB`` is the
only limit on an upload.

A request thread never waits for a client's headers. cheroot hands a connection to a request
thread as soon as it is accepted (or, kept alive, has a first byte), and the thread then reads
the headers at the client's pace, so clients that connect and send slowly could hold every
thread. Here a connection waits in ``_HeaderGate``, one thread for all of them, until its
headers have arrived in full; one that takes longer than ``HEADER_SECONDS`` is closed.

Two adjustments for answers sent before the app read the whole body (a refused upload):

- the connection closes after the answer, where cheroot would otherwise keep it open by reading
  the rest of the body in one read, into memory, however large;
- the close lingers: the server stops sending, then reads and drops what the client still sends
  for up to ``LINGER_SECONDS``, so that the client reads the answer instead of losing it to
  the reset that closing on unread data causes.
"""

from __future__ import annotations

import contextlib
import selectors
import signal
import socket
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from cheroot import server as cheroot_server
from cheroot import wsgi

from mla.evidence.multipart import CHUNK

LINGER_SECONDS = 5.0
SOCKET_TIMEOUT = 60  # seconds a client may stay silent in the middle of a request
SHUTDOWN_SECONDS = 10  # how long requests in progress may run on after a stop
BACKLOG = 1024  # connections the kernel queues before they are accepted (cheroot's default: 5)
HEADER_SECONDS = 20.0  # the most a client may take to send a request's headers
HEADER_LIMIT = 32 * 1024  # bytes of headers; cheroot answers 413 to more
# How far past HEADER_LIMIT a connection is handed on: cheroot reads headers in lines of up to
# 256 bytes and counts after each, so with this much there it reaches the limit without waiting.
_PAST_LIMIT = HEADER_LIMIT + 512
POLL_SECONDS = 0.1  # how often a connection with part of its headers is looked at again


class _Gateway(wsgi.Gateway_10):
    def start_response(self, status: str, headers: Any, exc_info: Any = None) -> Any:
        req = self.req
        rfile = req.rfile
        unread = (not rfile.closed) if req.chunked_read else rfile.remaining > 0
        if unread:
            req.close_connection = True
            req.conn.unread_body = True
        return super().start_response(status, headers, exc_info)


class _Connection(cheroot_server.HTTPConnection):
    unread_body = False

    def close(self) -> None:
        if self.unread_body:
            self._linger()
        super().close()

    def _linger(self) -> None:
        try:
            self.wfile.flush()
            self.socket.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER_SECONDS
            while (left := deadline - time.monotonic()) > 0:
                self.socket.settimeout(left)
                if not self.socket.recv(CHUNK):
                    break
        except OSError:
            pass  # the client went away or stayed silent: nothing left to protect


NOTHING, PART, WHOLE = range(3)  # how much of a request's headers has arrived


def _arrived(conn: cheroot_server.HTTPConnection) -> int:
    """How much of the next request's headers has arrived, in what cheroot has buffered and
    what waits in the socket, looked at without taking it. A client that closed, an error, or
    headers past the limit count as ``WHOLE``: the request thread answers or closes at once."""
    rfile = conn.rfile
    buffered = rfile.peek(0) if rfile.has_data() else b""
    sock = conn.socket
    timeout = sock.gettimeout()
    sock.settimeout(0)  # with a timeout, even a peek waits for data
    try:
        waiting = sock.recv(_PAST_LIMIT, socket.MSG_PEEK)
        if not waiting:
            return WHOLE
    except BlockingIOError:
        waiting = b""
    except OSError:
        return WHOLE
    finally:
        sock.settimeout(timeout)
    data = buffered + waiting
    head = data.lstrip(b"\r\n")  # blank lines before a request line are allowed
    if b"\n\r\n" in head or b"\n\n" in head or len(data) >= _PAST_LIMIT:
        return WHOLE
    return PART if data else NOTHING


class _HeaderGate:
    """Holds connections, in one thread, until their headers have arrived, then hands them on
    to the request threads; closes those that take longer than ``HEADER_SECONDS``. A connection
    with nothing yet waits in a selector; one with part of its headers (which the selector
    would report again at once) is looked at again every ``POLL_SECONDS``."""

    def __init__(self, hand_on: Callable[[Any], None]) -> None:
        self._hand_on = hand_on
        self._arrived: list[Any] = []  # admitted by other threads, not yet looked at
        self._lock = threading.Lock()
        self._stopping = False
        self._wake, self._waker = socket.socketpair()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake, selectors.EVENT_READ)
        self._deadlines: dict[Any, float] = {}  # every connection held
        self._partial: set[Any] = set()
        self._thread = threading.Thread(target=self._run, name="mla-header-gate", daemon=True)
        self._thread.start()

    def admit(self, conn: Any) -> None:
        if _arrived(conn) == WHOLE:
            self._hand_on(conn)
            return
        with self._lock:
            if self._stopping:
                conn.close()
                return
            self._arrived.append(conn)
            self._waker.send(b"\0")

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._waker.send(b"\0")
        self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            while not self._stopping:
                events = self._selector.select(POLL_SECONDS if self._partial else 1.0)
                looks = list(self._partial)
                self._partial.clear()
                for key, _ in events:
                    if key.data is None:
                        self._wake.recv(4096)
                        with self._lock:
                            arrived, self._arrived = self._arrived, []
                        for conn in arrived:
                            self._deadlines[conn] = time.monotonic() + HEADER_SECONDS
                        looks += arrived
                    else:
                        self._selector.unregister(key.fileobj)
                        looks.append(key.data)
                for conn in looks:
                    self._look(conn)
                now = time.monotonic()
                for conn in [c for c, deadline in self._deadlines.items() if deadline < now]:
                    self._drop(conn)
        finally:
            for conn in [*self._deadlines, *self._arrived]:
                self._drop(conn)
            self._selector.close()
            self._wake.close()
            self._waker.close()

    def _look(self, conn: Any) -> None:
        arrived = _arrived(conn)
        if arrived == WHOLE:
            del self._deadlines[conn]
            self._hand_on(conn)
        elif arrived == PART:
            self._partial.add(conn)
        else:
            self._selector.register(conn.socket, selectors.EVENT_READ, conn)

    def _drop(self, conn: Any) -> None:
        self._deadlines.pop(conn, None)
        self._partial.discard(conn)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(conn.socket)
        conn.close()


class _Server(wsgi.Server):
    _gate: _HeaderGate

    def prepare(self) -> None:
        self._gate = _HeaderGate(super().process_conn)
        super().prepare()

    def process_conn(self, conn: Any) -> None:
        self._gate.admit(conn)

    def stop(self) -> None:
        super().stop()
        self._gate.stop()


def make_server(app: Any, host: str, port: int, threads: int) -> wsgi.Server:
    """A cheroot server for ``app`` on ``host:port`` (0: any free port) with ``threads``
    request threads; ``prepare()`` binds it (then ``bind_addr`` has the real port)."""
    server = _Server(
        (host, port),
        app,
        numthreads=threads,
        server_name="mla",
        timeout=SOCKET_TIMEOUT,
        shutdown_timeout=SHUTDOWN_SECONDS,
        request_queue_size=BACKLOG,
    )
    server.max_request_header_size = HEADER_LIMIT
    server.gateway = _Gateway
    server.ConnectionClass = _Connection
    return server


def serve_until_stopped(server: wsgi.Server) -> None:
    """Serve on a prepared ``server`` until SIGINT or SIGTERM, then stop gracefully: no new
    connections; requests in progress get ``SHUTDOWN_SECONDS`` to finish."""

    def _terminate(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)
