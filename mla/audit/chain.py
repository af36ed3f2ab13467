"""Appending to and verifying the per-request hash chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from mla.audit.models import Event, EventKind
from mla.db import utcnow
from mla.requests.models import GENESIS_HASH, Request


def event_hash(
    prev_hash: str,
    *,
    request_id: int,
    seq: int,
    at: datetime,
    kind: str,
    actor_user_id: int | None,
    actor_authority_id: int | None,
    on_behalf_of_id: int | None,
    data: dict[str, Any],
) -> str:
    body = json.dumps(
        {
            "request": request_id,
            "seq": seq,
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "kind": kind,
            "actor_user": actor_user_id,
            "actor_authority": actor_authority_id,
            "on_behalf_of": on_behalf_of_id,
            "data": data,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def _row_hash(event: Event) -> str:
    return event_hash(
        event.prev_hash,
        request_id=event.request_id,
        seq=event.seq,
        at=event.at,
        kind=event.kind,
        actor_user_id=event.actor_user_id,
        actor_authority_id=event.actor_authority_id,
        on_behalf_of_id=event.on_behalf_of_id,
        data=event.data,
    )


def append(
    session: Session,
    request: Request,
    kind: EventKind,
    *,
    actor_user_id: int | None = None,
    actor_authority_id: int | None = None,
    on_behalf_of_id: int | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Event:
    """Append an event to ``request``'s history and flush it.

    Takes the request's row lock (``FOR UPDATE`` on PostgreSQL; SQLite serializes writers),
    so concurrent appends to one request queue up instead of forking the chain. The head is
    moved with a plain UPDATE so that reads recorded in the history (downloads, progress
    queries) do not bump the request's optimistic-lock version.
    """
    # The SELECT autoflushes pending changes to the request first, so a lost optimistic
    # lock surfaces here, before anything is appended.
    head, count = session.execute(
        select(Request.chain_head, Request.event_count)
        .where(Request.id == request.id)
        .with_for_update()
    ).one()
    event = Event(
        request_id=request.id,
        seq=count + 1,
        at=at or utcnow(),
        kind=str(kind),
        actor_user_id=actor_user_id,
        actor_authority_id=actor_authority_id,
        on_behalf_of_id=on_behalf_of_id,
        data=data or {},
        prev_hash=head,
    )
    event.hash = _row_hash(event)
    session.add(event)
    session.execute(
        update(Request)
        .where(Request.id == request.id)
        .values(chain_head=event.hash, event_count=event.seq)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(request, "chain_head", event.hash)
    set_committed_value(request, "event_count", event.seq)
    session.flush()
    return event


@dataclass(frozen=True)
class Break:
    """The first broken link found in one request's chain."""

    reference: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"{self.reference}: event {self.seq}: {self.reason}"


def verify_request(session: Session, request: Request) -> Break | None:
    """Recompute ``request``'s chain; return its first broken link, or None if it holds."""
    head = GENESIS_HASH
    expected = 1
    events = session.scalars(
        select(Event).where(Event.request_id == request.id).order_by(Event.seq)
    )
    for event in events:
        if event.seq != expected:
            return Break(request.reference, expected, f"missing; found event {event.seq} next")
        if event.prev_hash != head:
            return Break(request.reference, event.seq, "does not follow the previous event")
        if _row_hash(event) != event.hash:
            return Break(request.reference, event.seq, "contents do not match its hash")
        head = event.hash
        expected += 1
    if expected - 1 != request.event_count or head != request.chain_head:
        return Break(
            request.reference,
            expected,
            f"history ends at event {expected - 1} but {request.event_count} were recorded",
        )
    return None


def verify_all(session: Session) -> Iterator[tuple[Request, Break | None]]:
    """Verify every request's chain, yielding each request with its first break or None."""
    for request in session.scalars(select(Request).order_by(Request.id)):
        yield request, verify_request(session, request)
