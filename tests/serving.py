"""A WSGI app served in a thread of the test process by the server ``mla serve`` runs
(cheroot, loopback, a free port)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from mla.server import make_server


@contextlib.contextmanager
def serving(app: Any, threads: int = 4) -> Iterator[str]:
    """Serve ``app`` while the block runs; yields its base URL, ``http://127.0.0.1:<port>``."""
    server = make_server(app, "127.0.0.1", 0, threads)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.bind_addr[1]}"
    finally:
        server.stop()
        thread.join(timeout=10)
