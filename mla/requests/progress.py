"""Progress queries (Palermo 18.24): status reads by a requesting state's system, recorded in
the request's hash-chained history at most once per authority and request per hour.

Reads are not changes: the record bumps neither the request's version nor its ``updated_at``,
and the API's ``history`` and ``ETag`` leave it out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from mla.audit import chain
from mla.audit.models import Event, EventKind
from mla.db import Base
from mla.requests.models import Request
from mla.requests.scope import Actor

INTERVAL = timedelta(hours=1)


class ProgressQuery(Base):
    """When an authority last had a progress query on a request recorded in its history.

    Palermo 18.24 reads are audited, but at most once per authority and request per hour so
    that polling does not turn every read into a write; this row is the throttle, the history
    event (``EventKind.PROGRESS_QUERY``) is the record.
    """

    __tablename__ = "api_progress_query"

    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), primary_key=True
    )
    request_id: Mapped[int] = mapped_column(
        ForeignKey("request.id", ondelete="CASCADE"), primary_key=True
    )
    recorded_at: Mapped[datetime] = mapped_column(
        comment="when the last progress query was recorded in the request's history"
    )


def recorded_at(session: Session, request_id: int, actor: Actor) -> datetime | None:
    """When the actor's authority last had a progress query on request ``request_id``
    recorded (a primary-key read; no write)."""
    row = session.get(ProgressQuery, (actor.authority.id, request_id))
    return row.recorded_at if row is not None else None


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
