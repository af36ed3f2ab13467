"""A per-process cache of rendered request statuses, so that polling costs little more than
reading the request's row.

Key: (request id, request version, caller's authority, role, language). Every change of
state, contents, holder or deadlines goes through the request service and bumps the
request's version, which every read fetches from the database, so a change made by any
process is seen at once. What changes with time alone (a deadline turning overdue, a guard
that looks at the clock) is bounded by the entry's life: at most ``MAX_AGE`` seconds and
never past the next open deadline's due time.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from datetime import datetime, timedelta

MAX_AGE = 5.0
MAX_ENTRIES = 10_000

Key = tuple[int, int, int, str, str]


class StatusCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[Key, tuple[float, bytes, str]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def get(self, key: Key) -> tuple[bytes, str] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= time.monotonic():
                del self._entries[key]
                return None
            return entry[1], entry[2]

    def put(self, key: Key, body: bytes, etag: str, now: datetime, due: list[datetime]) -> None:
        life = min([MAX_AGE] + [(d - now) / timedelta(seconds=1) for d in due if d > now])
        with self._lock:
            self._entries[key] = (time.monotonic() + life, body, etag)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


class RecentReads:
    """(authority, request) pairs whose progress query this process knows to be recorded at
    a given time, to spare the throttle row's lookup on every poll."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._seen: OrderedDict[tuple[int, int], datetime] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def recorded_at(self, key: tuple[int, int]) -> datetime | None:
        with self._lock:
            return self._seen.get(key)

    def note(self, key: tuple[int, int], at: datetime) -> None:
        with self._lock:
            self._seen[key] = at
            self._seen.move_to_end(key)
            while len(self._seen) > self.max_entries:
                self._seen.popitem(last=False)
