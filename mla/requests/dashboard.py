"""The dashboard's queries: the authority's queue (what it holds, by the nearest deadline),
the deadlines due soon or past, what it chases on the other side, what changed there.

Scoped as every query of :class:`mla.requests.queries.RequestQueries`, over its helpers.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, union

from mla.audit.models import CHANGES, Event, EventKind
from mla.deadlines.models import Deadline
from mla.requests.models import Request
from mla.requests.queries import WITH_PARTIES, DeadlineRow, P, RequestQueries
from mla.requests.scope import Actor, own_rows, party_of


@dataclass(frozen=True)
class QueueRow:
    """A request the actor's authority holds, with the nearest running deadline it must meet
    on it (None: no clock runs)."""

    request: Request
    deadline: Deadline | None


class DashboardQueries(RequestQueries):
    """The dashboard's sections, each a page and how many there are in all."""

    def _open_deadlines(self, actor: Actor) -> Any:
        # The authority that must meet a deadline watches it. So does the one holding the
        # request while the requested state's clock runs (a detention clock the requested
        # state keeps while the formal request is the requesting state's to send); the
        # requesting side's own reminders are not the requested side's to watch.
        own = actor.authority.id
        running = (Deadline.closed_at.is_(None), Deadline.paused_at.is_(None))
        # Each from its own index, so that only running deadlines and open requests are read
        # (an OR across the two tables would read every deadline of the archive).
        theirs = select(Deadline.id).where(Deadline.authority_id == own, *running)
        watched = (
            select(Deadline.id)
            .join(P, and_(P.request_id == Deadline.request_id, own_rows(own)))
            .join(Request, Request.id == Deadline.request_id)
            .where(
                P.closed.is_(False),
                P.held.is_(True),
                Deadline.authority_id == Request.requested_authority_id,
                *running,
            )
        )
        return (
            select(Deadline, Request)
            .join(Request, Request.id == Deadline.request_id)
            .where(Deadline.id.in_(union(theirs, watched)), party_of(own))
        )

    def due_soon(
        self, actor: Actor, within: timedelta = timedelta(days=7), limit: int = 20
    ) -> tuple[list[DeadlineRow], int]:
        """Running deadlines the actor's authority must meet, or watches on a request it
        holds, falling due within ``within``, soonest first."""
        query = self._open_deadlines(actor).where(
            Deadline.due_at >= self.now, Deadline.due_at < self.now + within
        )
        return self._deadline_rows(query, limit)

    def overdue(self, actor: Actor, limit: int = 20) -> tuple[list[DeadlineRow], int]:
        """Running deadlines the actor's authority must meet or watches (see :meth:`due_soon`)
        already past due, most overdue first."""
        query = self._open_deadlines(actor).where(Deadline.due_at < self.now)
        return self._deadline_rows(query, limit)

    def _deadline_rows(self, query: Any, limit: int) -> tuple[list[DeadlineRow], int]:
        rows = self.session.execute(
            query.order_by(Deadline.due_at).limit(limit).options(WITH_PARTIES)
        )
        return [DeadlineRow(d, r) for d, r in rows], self._count(query)

    def recent_from_others(
        self, actor: Actor, since: timedelta = timedelta(days=7), limit: int = 20
    ) -> list[tuple[Request, Event]]:
        """Requests the other side changed lately, newest first, with that change."""
        after = self.now - since
        own = actor.authority.id
        # The newest changes first, read in id order until ``limit`` requests are found: the
        # last days' events only (their index by time), however large the archive.
        changes = (
            select(Event.id, Event.request_id)
            .where(
                Event.at >= after,
                # Another authority's assignments are its own business (its staff).
                Event.kind.in_([str(k) for k in CHANGES if k != EventKind.ASSIGNED]),
                Event.actor_authority_id != own,
                exists().where(P.request_id == Event.request_id, own_rows(own)),
            )
            .order_by(Event.id.desc())
        )
        latest: dict[int, int] = {}
        below: int | None = None
        while len(latest) < limit:
            batch = changes if below is None else changes.where(Event.id < below)
            rows = self.session.execute(batch.limit(limit * 5)).all()
            for event_id, request_id in rows:
                latest.setdefault(request_id, event_id)
            if len(rows) < limit * 5:
                break
            below = rows[-1][0]
        chosen = sorted(latest.values(), reverse=True)[:limit]
        if not chosen:
            return []
        found = self.session.execute(
            select(Request, Event)
            .join(Event, Event.request_id == Request.id)
            .where(Event.id.in_(chosen))
            .order_by(Event.id.desc())
        )
        return [(r, e) for r, e in found]

    def worklist(
        self, actor: Actor, offset: int = 0, limit: int = 50
    ) -> tuple[builtins.list[QueueRow], int]:
        """Open requests the actor's authority holds, each with its nearest running deadline
        (see :meth:`due_soon` for the deadlines an authority watches), the nearest first,
        those with no clock last, then the longest untouched; the page at ``offset`` and
        how many there are in all. Two queries, whatever the page size."""
        own = actor.authority.id
        nearest = (
            select(Deadline.id)
            .where(
                Deadline.request_id == Request.id,
                or_(
                    Deadline.authority_id == own,
                    Deadline.authority_id == Request.requested_authority_id,
                ),
                Deadline.closed_at.is_(None),
                Deadline.paused_at.is_(None),
            )
            .order_by(Deadline.due_at, Deadline.id)
            .limit(1)
            .correlate(Request)
            .scalar_subquery()
        )
        base = select(Request).where(
            party_of(own),
            Request.holder_authority_id == own,
            Request.closed_at.is_(None),
        )
        query = (
            base.add_columns(Deadline)
            .options(WITH_PARTIES)
            .outerjoin(Deadline, Deadline.id == nearest)
            .order_by(Deadline.due_at.is_(None), Deadline.due_at, Request.updated_at, Request.id)
            .offset(offset)
            .limit(limit)
        )
        rows = [QueueRow(r, d) for r, d in self.session.execute(query)]
        return rows, self._count(base)

    def awaiting_others(
        self, actor: Actor, offset: int = 0, limit: int = 20
    ) -> tuple[builtins.list[DeadlineRow], int]:
        """What the actor's authority chases: running deadlines of another authority, past
        due, on open requests it is party to and another authority holds; the most overdue
        first. The page at ``offset`` and how many there are in all."""
        own = actor.authority.id
        query = (
            select(Deadline, Request)
            .join(Request, Request.id == Deadline.request_id)
            .where(
                party_of(own),
                Request.holder_authority_id != own,
                Request.closed_at.is_(None),
                Deadline.authority_id != own,
                Deadline.closed_at.is_(None),
                Deadline.paused_at.is_(None),
                Deadline.due_at < self.now,
            )
        )
        page = (
            query.options(WITH_PARTIES)
            .order_by(Deadline.due_at, Deadline.id)
            .offset(offset)
            .limit(limit)
        )
        return [DeadlineRow(d, r) for d, r in self.session.execute(page)], self._count(query)
