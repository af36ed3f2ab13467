"""The dashboard's queries: the authority's queue (what it holds, by the nearest deadline),
the deadlines due soon or past, what it chases on the other side, what changed there.

Scoped as every query of :class:`mla.requests.queries.RequestQueries`, over its helpers.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, union

from mla.audit.models import CHANGES, Event, EventKind
from mla.deadlines.models import Deadline
from mla.requests.models import Request
from mla.requests.queries import WITH_PARTIES, DeadlineRow, P, RequestQueries
from mla.requests.scope import Actor, own_rows


@dataclass(frozen=True)
class QueueRow:
    """A request the actor's authority holds, with the nearest running deadline it must meet
    on it (None: no clock runs)."""

    request: Request
    deadline: Deadline | None


@dataclass(frozen=True)
class DeadlinesDue:
    """The dashboard's deadline sections (:meth:`DashboardQueries.deadlines_due`)."""

    overdue: list[DeadlineRow]
    overdue_count: int
    due_soon: list[DeadlineRow]
    due_soon_count: int


def party_of_deadline(authority_id: int) -> ColumnElement[bool]:
    """The deadline's request is one ``authority_id`` is party to and sees: a probe of the
    party rows' key per deadline. Written as a scalar subquery, not EXISTS, which
    PostgreSQL would turn into a join hashing every party row the authority has."""
    found = (
        select(P.request_id)
        .where(P.request_id == Deadline.request_id, own_rows(authority_id))
        .limit(1)
        .scalar_subquery()
    )
    return found.is_not(None)


class DashboardQueries(RequestQueries):
    """The dashboard's sections, each a page and how many there are in all."""

    def _watched(self, actor: Actor, before: datetime) -> Any:
        """The ids and due times of the running deadlines the actor's authority watches,
        falling due before ``before``. The authority that must meet a deadline watches it.
        So does the one holding the request while the requested state's clock runs (a
        detention clock the requested state keeps while the formal request is the
        requesting state's to send); the requesting side's own reminders are not the
        requested side's to watch."""
        own = actor.authority.id
        running = (Deadline.closed_at.is_(None), Deadline.paused_at.is_(None))
        # Each from its own index, so that only running deadlines and open requests are read
        # (an OR across the two tables would read every deadline of the archive): the
        # authority's own from the running deadlines' index, the others' through the open
        # requests it holds.
        theirs = select(Deadline.id, Deadline.due_at).where(
            Deadline.authority_id == own, *running, Deadline.due_at < before, party_of_deadline(own)
        )
        watched = (
            select(Deadline.id, Deadline.due_at)
            .join(P, and_(P.request_id == Deadline.request_id, own_rows(own)))
            .join(Request, Request.id == Deadline.request_id)
            .where(
                P.closed.is_(False),
                P.held.is_(True),
                Deadline.authority_id == Request.requested_authority_id,
                *running,
                Deadline.due_at < before,
            )
        )
        return union(theirs, watched)

    def deadlines_due(
        self, actor: Actor, within: timedelta = timedelta(days=7), limit: int = 20
    ) -> DeadlinesDue:
        """Running deadlines the actor's authority must meet, or watches on a request it
        holds (see :meth:`_watched`): those past due, most overdue first, and those falling
        due within ``within``, soonest first; ``limit`` of each and how many there are.
        Three queries: the watched deadlines' ids and due times (their counts), then the
        shown rows and their parties."""
        soon = self.now + within
        found = self.session.execute(self._watched(actor, soon)).all()
        late = sorted((due, i) for i, due in found if due < self.now)
        coming = sorted((due, i) for i, due in found if due >= self.now)
        shown = [i for _due, i in late[:limit] + coming[:limit]]
        rows: dict[int, DeadlineRow] = {}
        if shown:
            query = (
                select(Deadline, Request)
                .join(Request, Request.id == Deadline.request_id)
                .where(Deadline.id.in_(shown))
                .options(WITH_PARTIES)
            )
            rows = {d.id: DeadlineRow(d, r) for d, r in self.session.execute(query)}
        return DeadlinesDue(
            overdue=[rows[i] for _due, i in late[:limit]],
            overdue_count=len(late),
            due_soon=[rows[i] for _due, i in coming[:limit]],
            due_soon_count=len(coming),
        )

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
        how many there are in all. Read from the authority's open party rows it holds (its
        open work, whatever the archive holds), each with a probe of its request's running
        deadlines; only the page's rows are read whole. One query and its rows' parties, and
        one count only for a page past the end."""
        own = actor.authority.id
        requested = (
            select(Request.requested_authority_id)
            .where(Request.id == P.request_id)
            .correlate(P)
            .scalar_subquery()
        )

        def nearest(column: Any) -> Any:
            return (
                select(column)
                .where(
                    Deadline.request_id == P.request_id,
                    or_(Deadline.authority_id == own, Deadline.authority_id == requested),
                    Deadline.closed_at.is_(None),
                    Deadline.paused_at.is_(None),
                )
                .order_by(Deadline.due_at, Deadline.id)
                .limit(1)
                .correlate(P)
                .scalar_subquery()
            )

        held = (own_rows(own), P.closed.is_(False), P.held.is_(True))
        due = nearest(Deadline.due_at)
        page = (
            select(
                P.request_id,
                P.updated_at,
                due.label("due_at"),
                nearest(Deadline.id).label("deadline_id"),
                func.count().over().label("total"),
            )
            .where(*held)
            .order_by(due.asc().nulls_last(), P.updated_at, P.request_id)
            .offset(offset)
            .limit(limit)
            .subquery()
        )
        query = (
            select(Request, Deadline, page.c.total)
            .join(page, page.c.request_id == Request.id)
            .outerjoin(Deadline, Deadline.id == page.c.deadline_id)
            .options(WITH_PARTIES)
            .order_by(page.c.due_at.asc().nulls_last(), page.c.updated_at, page.c.request_id)
        )
        found = self.session.execute(query).all()
        rows = [QueueRow(r, d) for r, d, _n in found]
        return rows, self._total(found, offset, select(P.request_id).where(*held))

    def _total(self, found: Sequence[Any], offset: int, query: Any) -> int:
        """How many rows a page's query with ``count(*) OVER ()`` last in its rows
        (``found``) matches in all: from its rows, or counted by ``query`` when the page at
        ``offset`` is past the end."""
        if found:
            return int(found[0][-1])
        return self._count(query) if offset else 0

    def awaiting_others(
        self, actor: Actor, offset: int = 0, limit: int = 20
    ) -> tuple[builtins.list[DeadlineRow], int]:
        """What the actor's authority chases: running deadlines of another authority, past
        due, on open requests it is party to and another authority holds; the most overdue
        first. The page at ``offset`` and how many there are in all. Read from the
        authority's open party rows it does not hold: one query and its rows' parties, and
        one count only for a page past the end."""
        own = actor.authority.id
        theirs = select(P.request_id).where(own_rows(own), P.closed.is_(False), P.held.is_(False))
        conditions = (
            Deadline.request_id.in_(theirs),
            Deadline.authority_id != own,
            Deadline.closed_at.is_(None),
            Deadline.paused_at.is_(None),
            Deadline.due_at < self.now,
        )
        # The page's ids first, from the indexes alone; then its rows whole.
        ids = (
            select(Deadline.id, func.count().over().label("total"))
            .where(*conditions)
            .order_by(Deadline.due_at, Deadline.id)
            .offset(offset)
            .limit(limit)
            .subquery()
        )
        page = (
            select(Deadline, Request, ids.c.total)
            .join(ids, ids.c.id == Deadline.id)
            .join(Request, Request.id == Deadline.request_id)
            .options(WITH_PARTIES)
            .order_by(Deadline.due_at, Deadline.id)
        )
        found = self.session.execute(page).all()
        rows = [DeadlineRow(d, r) for d, r, _n in found]
        return rows, self._total(found, offset, select(Deadline.id).where(*conditions))
