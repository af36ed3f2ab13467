"""A token-bucket rate limit per API token, kept in each process's memory.

Per process on purpose: a limit in the database would turn every read into a write. With N
web processes a client may therefore get up to N times the rate in the worst case; the limit
is a guard against runaway polling loops, not an accounting device.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from mla.config import Rate


class TokenBuckets:
    """One bucket per key holding up to ``rate.count`` calls, refilled continuously."""

    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: int) -> float:
        """Spend one call for ``key``: 0 if allowed, else the seconds until one is."""
        per_second = self.rate.count / self.rate.period
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.get(key, (float(self.rate.count), now))
            tokens = min(float(self.rate.count), tokens + (now - at) * per_second)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / per_second

    @staticmethod
    def retry_after(wait: float) -> str:
        return str(max(1, math.ceil(wait)))
