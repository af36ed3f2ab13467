"""Progress queries (Palermo 18.24): status reads by a requesting state's system, recorded in
the request's hash-chained history at most once per authority and request per hour.

Reads are not changes: the record bumps neither the request's version nor its ``updated_at``,
and the API's ``history`` and ``ETag`` leave it out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from mla.api.cache import RecentReads
from mla.api.models import ProgressQuery
from mla.audit import chain
from mla.audit.models import Event, EventKind
from mla.db import unit_of_work
from mla.requests.models import Request
from mla.requests.service import Actor

INTERVAL = timedelta(hours=1)


def recorded_at(session: Session, request_id: int, actor: Actor) -> datetime | None:
    """When the actor's authority last had a progress query on request ``request_id``
    recorded (a primary-key read; no write)."""
    row = session.get(ProgressQuery, (actor.authority.id, request_id))
    return row.recorded_at if row is not None else None


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


def record(session: Session, request_id: int, actor: Actor, now: datetime) -> Event | None:
    """Record a progress query by ``actor`` on request ``request_id`` unless one of its
    authority's was recorded within the last hour. Flushes; the caller commits.

    Start a fresh transaction for it: the first statement is the conditional upsert of the
    throttle row, so that of two processes racing for the same hour exactly one appends (the
    other waits on the row, then finds it fresh) and SQLite takes its write lock before
    reading anything.
    """
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(ProgressQuery)
        .values(authority_id=actor.authority.id, request_id=request_id, recorded_at=now)
        .on_conflict_do_update(
            index_elements=["authority_id", "request_id"],
            set_={"recorded_at": now},
            where=ProgressQuery.recorded_at <= now - INTERVAL,
        )
        .returning(ProgressQuery.recorded_at)
    )
    if session.execute(stmt).first() is None:
        return None
    return chain.append(
        session,
        session.get_one(Request, request_id),
        EventKind.PROGRESS_QUERY,
        actor_user_id=actor.user_id,
        actor_authority_id=actor.authority.id,
        data={"via": "api", "token": actor.token_id},
        at=now,
    )
