"""The API's side of progress queries (Palermo 18.24, the rule in
:mod:`mla.requests.progress`): a read's record is written after the read's own transaction,
and this process remembers what it recorded so that most polls cost no query at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from mla.api.cache import RecentReads
from mla.db import unit_of_work
from mla.requests.progress import INTERVAL, record, recorded_at
from mla.requests.scope import Actor


def record_due(
    session: Session, recent: RecentReads, request_id: int, actor: Actor, now: datetime
) -> Callable[[], None] | None:
    """The write that records this read as a progress query, to run once the read's own
    transaction has ended; None when one was recorded within the hour, as this process
    (``recent``) or else the throttle row knows. Most polls end at ``recent``, with no
    query at all."""
    key = (actor.authority.id, request_id)
    seen = recent.recorded_at(key)
    if seen is not None and seen > now - INTERVAL:
        return None
    recorded = recorded_at(session, request_id, actor)
    if recorded is not None and recorded > now - INTERVAL:
        recent.note(key, recorded)
        return None

    def write() -> None:
        with unit_of_work(session):
            record(session, request_id, actor, now)
        recent.note(key, now)

    return write
