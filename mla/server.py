"""The WSGI server that ``mla serve`` runs: cheroot, threaded, in one process.

Why cheroot: it is pure Python, and it hands the app ``wsgi.input`` as a reader over the
socket itself, never spooling a request body to a temporary file (waitress writes every body
over 512 KB to one, which would put evidence in clear on disk); nor does it impose a body
limit of its own (``max_request_body_size`` is 0, unlimited), so ``MLA_MAX_UPLOAD_MB`` is the
only limit on an upload.

A request thread never waits for an anonymous client. cheroot hands a connection to a request
thread as soon as it is accepted (or, kept alive, has a first byte), and the thread then reads
the request at the client's pace, so clients that connect and send slowly could hold every
thread. Here a connection waits in ``_Gate``, one thread for all of them, until its headers
have arrived, and its body too if that is small (``SMALL_BODY`` bytes at most: the most the
app reads before it knows who is calling; ``mla.web.boundary`` refuses a larger body from a
caller not signed in before reading it, and the API reads none before the token checks out);
one that takes longer than ``REQUEST_SECONDS`` is closed. A larger body (an upload, a signed-in
clerk's form) is read by the request thread as it arrives.

Two adjustments for answers sent before the app read the whole body (a refused upload):

- the connection closes after the answer, where cheroot would otherwise keep it open by reading
  the rest of the body in one read, into memory, however large;
- the close lingers, in ``_Gate``: the server stops sending, then reads and drops what the
  client still sends for up to ``LINGER_SECONDS``, so that the client reads the answer instead
  of losing it to the reset that closing on unread data causes.
"""

from __future__ import annotations

import contextlib
import re
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
from mla.web.boundary import ANONYMOUS_BODY_BYTES as SMALL_BODY

LINGER_SECONDS = 5.0
SOCKET_TIMEOUT = 60  # seconds a client may stay silent in the middle of a request
SHUTDOWN_SECONDS = 10  # how long requests in progress may run on after a stop
BACKLOG = 1024  # connections the kernel queues before they are accepted (cheroot's default: 5)
REQUEST_SECONDS = 20.0  # the most a client may take to send its headers (and a small body)
HEADER_LIMIT = 32 * 1024  # bytes of headers; cheroot answers 413 to more
# How far past HEADER_LIMIT a connection is handed on: cheroot reads headers in lines of up to
# 256 bytes and counts after each, so with this much there it reaches the limit without waiting.
_PAST_LIMIT = HEADER_LIMIT + 512
POLL_SECONDS = 0.1  # how often a connection the selector cannot wait for is looked at again


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
    continued = False  # the gate answered this request's "Expect: 100-continue"
    server: _Server

    def close(self) -> None:
        if not self.unread_body:
            super().close()
            return
        self.rfile.close()
        try:
            self.wfile.flush()
            self.socket.shutdown(socket.SHUT_WR)
        except OSError:
            self.socket.close()  # the client went away: nothing left to protect
            return
        self.server.gate.linger(self.socket)


_HEADERS_END = re.compile(rb"\r?\n\r?\n")
_CONTENT_LENGTH = re.compile(rb"\ncontent-length[ \t]*:[ \t]*(\d{1,9})[ \t]*\r?\n", re.IGNORECASE)
_CHUNKED = re.compile(rb"\ntransfer-encoding[ \t]*:", re.IGNORECASE)
_EXPECT_CONTINUE = re.compile(rb"\nexpect[ \t]*:[ \t]*100-continue[ \t]*\r?\n", re.IGNORECASE)


def _waiting(conn: _Connection) -> int | None:
    """None once the next request has arrived (its headers, and its body too if it declares
    one of at most ``SMALL_BODY`` bytes), in what cheroot has buffered and what waits in the
    socket, looked at without taking it; until then how many bytes wait in the socket. A
    client that closed, an error, or headers past the limit count as arrived: the request
    thread answers or closes at once."""
    rfile = conn.rfile
    buffered = rfile.peek(0) if rfile.has_data() else b""
    sock = conn.socket
    timeout = sock.gettimeout()
    sock.settimeout(0)  # with a timeout, even a peek waits for data
    try:
        waiting = sock.recv(_PAST_LIMIT + SMALL_BODY, socket.MSG_PEEK)
        if not waiting:
            return None
    except BlockingIOError:
        waiting = b""
    except OSError:
        return None
    finally:
        sock.settimeout(timeout)
    data = buffered + waiting
    head = data.lstrip(b"\r\n")  # blank lines before a request line are allowed
    end = _HEADERS_END.search(head)
    if end is None:
        return None if len(head) >= _PAST_LIMIT else len(waiting)
    length = _CONTENT_LENGTH.search(head, 0, end.end())
    if length is None or int(length[1]) > SMALL_BODY or _CHUNKED.search(head, 0, end.end()):
        return None  # no body, a chunked one, or one that goes on to be read as it comes
    if len(head) - end.end() >= int(length[1]):
        return None
    if not conn.continued and _EXPECT_CONTINUE.search(head, 0, end.end()):
        # The client (curl, .NET) sends the body once told to: here, where the body is
        # awaited. cheroot says it again when it reads the headers, which HTTP allows.
        conn.continued = True
        with contextlib.suppress(OSError):
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    return len(waiting)


def _wake_past(sock: socket.socket, count: int) -> bool:
    """Have a selector report ``sock`` readable only once more than ``count`` bytes wait in
    it (its receive low-water mark); False where the system does not allow it."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, count + 1)
    except OSError:
        return False
    return True


class _Gate:
    """One thread that waits on clients for the request threads: it holds a connection until
    its request has arrived (``_waiting``), then hands it on, and drains a connection whose
    answer left part of the body unread, then closes it. A connection waits at most
    ``REQUEST_SECONDS`` for its request and ``LINGER_SECONDS`` for its drain. A connection
    waits in a selector for more than the bytes it has (``_wake_past``); where that cannot be
    had, or the selector woke it for nothing new, it is looked at every ``POLL_SECONDS``."""

    def __init__(self, hand_on: Callable[[Any], None]) -> None:
        self._hand_on = hand_on
        self._lock = threading.Lock()
        self._stopping = False
        self._incoming: list[tuple[Any, float]] = []  # from other threads, with their time
        self._wake, self._waker = socket.socketpair()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake, selectors.EVENT_READ)
        self._deadlines: dict[Any, float] = {}  # every connection (or lingering socket) held
        self._partial: set[Any] = set()
        self._thread = threading.Thread(target=self._run, name="mla-gate", daemon=True)
        self._thread.start()

    def admit(self, conn: Any) -> None:
        """Hand ``conn`` on once its request has arrived (at once if it has)."""
        if _waiting(conn) is None:
            self._hand(conn)
        else:
            self._give(conn, REQUEST_SECONDS)

    def linger(self, sock: socket.socket) -> None:
        """Read and drop what the client still sends on ``sock`` (its sending side already
        shut), then close it: closing on unread data would reset the connection, and the
        client lose the answer."""
        self._give(sock, LINGER_SECONDS)

    def _give(self, item: Any, seconds: float) -> None:
        with self._lock:
            if self._stopping:
                item.close()
                return
            self._incoming.append((item, seconds))
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
                looks = [(conn, -1) for conn in self._partial]
                self._partial.clear()
                for key, _ in events:
                    if key.data is None:
                        looks += [(conn, -1) for conn in self._take_incoming()]
                    elif isinstance(key.data, socket.socket):
                        self._drain(key.data)
                    else:
                        self._selector.unregister(key.fileobj)
                        looks.append(key.data)
                for conn, before in looks:
                    self._look(conn, before)
                now = time.monotonic()
                for item in [i for i, deadline in self._deadlines.items() if deadline < now]:
                    self._drop(item)
        finally:
            for item in [*self._deadlines, *(i for i, _ in self._incoming)]:
                self._drop(item)
            self._selector.close()
            self._wake.close()
            self._waker.close()

    def _take_incoming(self) -> list[Any]:
        """The connections given since the last look (lingering sockets go to the selector)."""
        self._wake.recv(4096)
        with self._lock:
            incoming, self._incoming = self._incoming, []
        conns = []
        for item, seconds in incoming:
            self._deadlines[item] = time.monotonic() + seconds
            if isinstance(item, socket.socket):
                self._selector.register(item, selectors.EVENT_READ, item)
            else:
                conns.append(item)
        return conns

    def _look(self, conn: Any, before: int) -> None:
        """Hand ``conn`` on, or wait for more than the bytes it has (``before``: those it had
        when the selector was last asked to wait)."""
        waiting = _waiting(conn)
        if waiting is None:
            del self._deadlines[conn]
            _wake_past(conn.socket, 0)  # as it was: the request thread's reads wait for 1 byte
            self._hand(conn)
        elif waiting > before and _wake_past(conn.socket, waiting):
            self._selector.register(conn.socket, selectors.EVENT_READ, (conn, waiting))
        else:
            self._partial.add(conn)

    def _hand(self, conn: Any) -> None:
        conn.continued = False  # for its next request
        self._hand_on(conn)

    def _drain(self, sock: socket.socket) -> None:
        try:
            if sock.recv(CHUNK):
                return
        except OSError:
            pass
        self._drop(sock)  # the client closed, or went away

    def _drop(self, item: Any) -> None:
        self._deadlines.pop(item, None)
        self._partial.discard(item)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(item if isinstance(item, socket.socket) else item.socket)
        item.close()


class _Server(wsgi.Server):
    gate: _Gate

    def prepare(self) -> None:
        self.gate = _Gate(super().process_conn)
        super().prepare()

    def process_conn(self, conn: Any) -> None:
        self.gate.admit(conn)

    def stop(self) -> None:
        super().stop()
        self.gate.stop()


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
