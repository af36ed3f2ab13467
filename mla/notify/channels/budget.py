"""The time budget of one whole delivery attempt, e-mail or webhook: past it the attempt's
sockets are shut down, however slowly the other side drips."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time

from mla.notify.channels.retry import DeliveryError

#: Seconds a whole delivery attempt may take by default (MLA_DELIVERY_TIMEOUT).
DEFAULT_BUDGET = 30.0


class Budget:
    """A deadline for a whole delivery attempt: connect, TLS, send and read the answer.

    Socket timeouts bound each wait, not the attempt: a receiver that drips one byte per
    second resets them forever. So a timer shuts down every socket the attempt opened when
    the budget runs out, which ends whatever read or write is blocked; :meth:`timeout` gives
    each socket operation no more than what is left. Use as a context manager around one
    attempt, and :meth:`watch` each socket as it is created.
    """

    def __init__(self, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError(f"a delivery budget must be positive, got {seconds}")
        self.seconds = seconds
        self._cut_off = False
        self._ends = time.monotonic() + seconds
        self._lock = threading.Lock()
        # Duplicates of the watched descriptors: shutdown() acts on the connection, which
        # they share, even after TLS wrapping has moved the original into a new object.
        self._watched: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Budget:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            watched, self._watched = self._watched, []
        for sock in watched:
            sock.close()

    @property
    def expired(self) -> bool:
        return self._cut_off or time.monotonic() >= self._ends

    def timeout(self, limit: float) -> float:
        """``limit`` or the time left, whichever is smaller; raises TimeoutError when none is."""
        left = self._ends - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"the delivery took more than its {self.seconds:g} s")
        return min(limit, left)

    def watch(self, sock: socket.socket) -> socket.socket:
        """Have ``sock``'s connection shut down when the budget runs out; returns ``sock``."""
        duplicate = socket.socket(fileno=os.dup(sock.fileno()))
        with self._lock:
            self._watched.append(duplicate)
            cut = self._cut_off
        if cut:
            self._cut(duplicate)
        return sock

    def _expire(self) -> None:
        with self._lock:
            self._cut_off = True
            watched = list(self._watched)
        for sock in watched:
            self._cut(sock)

    @staticmethod
    def _cut(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def failure(self, where: str) -> DeliveryError:
        return DeliveryError(
            f"{where} took longer than the {self.seconds:g} s a delivery may take "
            "(MLA_DELIVERY_TIMEOUT); cut off",
            retryable=True,
        )
