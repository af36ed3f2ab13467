"""The WSGI server that ``mla serve`` runs: cheroot, threaded, in one process.

Why cheroot: it is pure Python, and it hands the app ``wsgi.input`` as a reader over the
socket itself, never spooling a request body to a temporary file (waitress writes every body
over 512 KB to one, which would put evidence in clear on disk); nor does it impose a body
limit of its own (``max_request_body_size`` is 0, unlimited), so ``MLA_MAX_UPLOAD_MB`` is the
only limit on an upload.

Two adjustments for answers sent before the app read the whole body (a refused upload):

- the connection closes after the answer, where cheroot would otherwise keep it open by reading
  the rest of the body in one read, into memory, however large;
- the close lingers: the server stops sending, then reads and drops what the client still sends
  for up to ``LINGER_SECONDS``, so that the client reads the answer instead of losing it to
  the reset that closing on unread data causes.
"""

from __future__ import annotations

import signal
import socket
import time
from types import FrameType
from typing import Any

from cheroot import server as cheroot_server
from cheroot import wsgi

from mla.evidence.multipart import CHUNK

LINGER_SECONDS = 5.0
SOCKET_TIMEOUT = 60  # seconds a client may stay silent in the middle of a request
SHUTDOWN_SECONDS = 10  # how long requests in progress may run on after a stop


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


def make_server(app: Any, host: str, port: int, threads: int) -> wsgi.Server:
    """A cheroot server for ``app`` on ``host:port`` (0: any free port) with ``threads``
    request threads; ``prepare()`` binds it (then ``bind_addr`` has the real port)."""
    server = wsgi.Server(
        (host, port),
        app,
        numthreads=threads,
        server_name="mla",
        timeout=SOCKET_TIMEOUT,
        shutdown_timeout=SHUTDOWN_SECONDS,
    )
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
