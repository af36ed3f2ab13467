"""A token-bucket rate limit per API token, kept in each process's memory.

Per process on purpose: a limit in the database would turn every read into a write. With N
web processes a client may therefore get up to N times the rate in the worst case; the limit
is a guard against runaway polling loops, not an accounting device.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from mla.errors import ConfigError

_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour)\s*$")


@dataclass(frozen=True)
class Rate:
    count: int
    period: float  # seconds

    def __str__(self) -> str:
        unit = {v: k for k, v in _PERIODS.items()}[self.period]
        return f"{self.count}/{unit}"


def parse_rate(raw: str) -> Rate:
    """``"120/minute"`` → Rate(120, 60). Raises ConfigError naming MLA_API_RATE."""
    match = _RATE.match(str(raw))
    if not match or int(match.group(1)) <= 0:
        raise ConfigError(
            f"MLA_API_RATE must look like 120/minute (per second, minute or hour), got {raw!r}"
        )
    return Rate(int(match.group(1)), _PERIODS[match.group(2)])


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
