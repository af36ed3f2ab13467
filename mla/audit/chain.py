"""Appending to and verifying the per-request hash chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from mla.audit import replay
from mla.audit.models import Event, EventKind
from mla.db import utcnow
from mla.requests.models import GENESIS_HASH, Request, RequestParty


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
            "at": replay.instant(at),
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


def _row_hash(event: Any) -> str:
    """The hash of ``event`` (an Event, or a result row with its column names)."""
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
    locked: bool = False,
) -> Event:
    """Append an event to ``request``'s history and flush it.

    Takes the request's row lock (``FOR UPDATE`` on PostgreSQL; SQLite serializes writers),
    so concurrent appends to one request queue up instead of forking the chain; with
    ``locked``, the caller took it in this transaction and ``request.chain_head`` and
    ``event_count`` hold what it read then (:meth:`~mla.requests.recording.RequestContext.lock`),
    so the head is not read again. The head is moved with a plain UPDATE so that reads
    recorded in the history (downloads, progress queries) do not bump the request's
    optimistic-lock version; when the request has changes of its own pending (a
    transition), it joins their UPDATE instead, which bumps the version anyway.
    """
    if locked:
        head, count = request.chain_head, request.event_count
    else:
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
    if locked and session.is_modified(request):
        request.chain_head, request.event_count = event.hash, event.seq
    else:
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
    """The first broken link found in one request's chain, or the first part of its row
    that is not what its history says."""

    reference: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"{self.reference}: event {self.seq}: {self.reason}"


@dataclass(frozen=True)
class Verified:
    """One request's check: its first break (None if it holds), and whether its history
    could tell only part of its row (older events; see :mod:`mla.audit.replay`)."""

    reference: str
    broken: Break | None
    partial: bool


class _Walk:
    """One request's history checked event by event: the chain, then the row it replays to."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self.head = GENESIS_HASH
        self.expected = 1
        self.broken: Break | None = None
        self.replay = replay.Replay()

    def step(self, event: Any) -> None:
        if self.broken is not None:
            return
        reference = self.request.reference
        if event.seq != self.expected:
            reason = f"missing; found event {event.seq} next"
            self.broken = Break(reference, self.expected, reason)
        elif event.prev_hash != self.head:
            self.broken = Break(reference, event.seq, "does not follow the previous event")
        elif _row_hash(event) != event.hash:
            self.broken = Break(reference, event.seq, "contents do not match its hash")
        else:
            self.replay.apply(event.seq, event.kind, event.data or {})
            self.head = event.hash
            self.expected += 1

    def finish(self, names: replay.Names, assignees: dict[int, int]) -> Verified:
        request = self.request
        if self.broken is None and (
            self.expected - 1 != request.event_count or self.head != request.chain_head
        ):
            self.broken = Break(
                request.reference,
                self.expected,
                f"history ends at event {self.expected - 1} but {request.event_count} "
                "were recorded",
            )
        if self.broken is None:
            differs = self.replay.difference(names.observed(request, assignees), names.authority_of)
            if differs is not None:
                self.broken = Break(request.reference, *differs)
        return Verified(request.reference, self.broken, self.replay.partial)


# What the verifier reads of events and requests: columns, not entities, so that checking
# every request neither fills the session nor joins the authorities for each row.
_EVENT_COLUMNS = (
    Event.request_id,
    Event.seq,
    Event.at,
    Event.kind,
    Event.actor_user_id,
    Event.actor_authority_id,
    Event.on_behalf_of_id,
    Event.data,
    Event.prev_hash,
    Event.hash,
)
_REQUEST_COLUMNS = (
    Request.id,
    Request.reference,
    Request.event_count,
    Request.chain_head,
    Request.kind,
    Request.workflow_version,
    Request.state,
    Request.holder_authority_id,
    Request.requesting_authority_id,
    Request.requested_authority_id,
    Request.executing_authority_id,
    Request.legal_basis,
    Request.urgency,
    Request.their_reference,
    Request.confidential,
    Request.needed_by,
    Request.needed_by_reason,
    Request.offence_categories,
    Request.created_by_id,
    Request.transmitted_at,
    Request.closed_at,
    Request.outcome,
    Request.fields,
)
_CHUNK = 500  # requests checked per pair of queries


def verify_request(session: Session, request: Request) -> Break | None:
    """Recompute ``request``'s chain and replay its history to its row; return its first
    broken link or the first part of the row its history does not give, or None."""
    walk = _Walk(request)
    for event in session.execute(
        select(*_EVENT_COLUMNS).where(Event.request_id == request.id).order_by(Event.seq)
    ):
        walk.step(event)
    assignees = {p.authority_id: p.assignee_id for p in request.parties if p.assignee_id}
    return walk.finish(replay.Names(session), assignees).broken


def verify_all(session: Session) -> Iterator[Verified]:
    """Verify every request as :func:`verify_request` does, in batches of requests (two
    queries each, events streamed), yielding each request's result in id order."""
    names = replay.Names(session)
    last = 0
    while True:
        requests = session.execute(
            select(*_REQUEST_COLUMNS).where(Request.id > last).order_by(Request.id).limit(_CHUNK)
        ).all()
        if not requests:
            return
        last = requests[-1].id
        assignees: dict[int, dict[int, int]] = {r.id: {} for r in requests}
        for request_id, authority_id, user_id in session.execute(
            select(
                RequestParty.request_id, RequestParty.authority_id, RequestParty.assignee_id
            ).where(
                RequestParty.request_id.between(requests[0].id, last),
                RequestParty.assignee_id.is_not(None),
            )
        ):
            if request_id in assignees and user_id is not None:
                assignees[request_id][authority_id] = user_id
        assigned = [u for a in assignees.values() for u in a.values()]
        names.load_users([r.created_by_id for r in requests] + assigned)
        walks = {r.id: _Walk(r) for r in requests}
        events = session.execute(
            select(*_EVENT_COLUMNS)
            .where(Event.request_id.between(requests[0].id, last))
            .order_by(Event.request_id, Event.seq)
            .execution_options(yield_per=2000)
        )
        for event in events:
            walks[event.request_id].step(event)
        for request in requests:
            yield walks[request.id].finish(names, assignees[request.id])
