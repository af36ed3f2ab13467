"""Read-only queries behind the clerks' screens: queues, deadlines, lists, workload.

Every query is scoped to the actor's authority: a request appears only if the authority is
party to it, a deadline only if the authority must meet it. The lists and the queue read the
authority's own ``request_party`` rows (:mod:`mla.requests.scope`), each page one index
range scan over them, so that a page costs the same however large the archive grows; the
assignee shown is always the actor's own authority's. Nothing here writes.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select, union
from sqlalchemy.orm import Session, defer, selectinload

from mla.audit.models import CHANGES, Event, EventKind
from mla.authorities.models import Authority, AuthorityKind, User
from mla.db import parse_id
from mla.deadlines.models import Deadline
from mla.errors import N_, FieldError, Invalid
from mla.requests import search
from mla.requests.models import Request, RequestParty, Urgency
from mla.requests.scope import Actor, own_rows, party_of

P = RequestParty  # the actor's own party rows, which the lists read
# What a row shown with its assignee needs loaded (the actor's own party's assignee: the
# user comes from the session's identity map, or one lookup by id).
_WITH_PARTIES = selectinload(Request.parties)
# What a list row does not show: not read (a JSON document each).
_UNSHOWN = defer(Request.fields), defer(Request.offence_categories)

# sort key -> (column, descending)
SORTS: dict[str, tuple[Any, bool]] = {
    "-updated": (P.updated_at, True),
    "updated": (P.updated_at, False),
    "-created": (P.created_at, True),
    "created": (P.created_at, False),
    "reference": (P.reference, False),
    "-reference": (P.reference, True),
}
# What a search looks for as the start of a reference (MLA-ARG-2026-00042).
_REFERENCE_START = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")


@dataclass(frozen=True)
class DeadlineRow:
    deadline: Deadline
    request: Request


@dataclass(frozen=True)
class RequestFilter:
    """What the request list shows. ``holder``: ``us``, ``them`` or an authority code;
    ``counterpart``: an authority code; ``q``: the start of a reference, or words of their
    reference or the fields (names, subjects; see :mod:`mla.requests.search`); ``mine``:
    only those the actor is assigned."""

    kind: str | None = None
    state: str | None = None
    holder: str | None = None
    counterpart: str | None = None
    urgency: str | None = None
    overdue: bool = False
    q: str | None = None
    sort: str = "-updated"
    mine: bool = False


@dataclass(frozen=True)
class Page:
    rows: list[Request]
    next_cursor: str | None
    overdue_ids: set[int] = field(default_factory=set)
    # How many match the filter (asked with ``count_up_to``): at most that figure plus one,
    # ``capped`` when there are more than the figure.
    total: int | None = None
    capped: bool = False


@dataclass(frozen=True)
class QueueRow:
    """A request the actor's authority holds, with the nearest running deadline it must meet
    on it (None: no clock runs)."""

    request: Request
    deadline: Deadline | None


@dataclass(frozen=True)
class WorkloadRow:
    user: User | None
    open: int
    overdue: int


def _encode_cursor(value: Any, row_id: int) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value, row_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, column: Any) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, row_id = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(value, str) or parse_id(row_id) is None:
            raise ValueError(cursor)
        if column is not P.reference:
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError(cursor)
        return value, int(row_id)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise Invalid(FieldError("cursor", N_("is not a cursor this list gave out"))) from None


class RequestQueries:
    """The screens' queries over one session, at ``now``."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now

    # --- dashboard ------------------------------------------------------------------------

    def queue(self, actor: Actor, limit: int = 50) -> tuple[list[Request], int]:
        """Open requests the actor's authority holds: the actor's own first, then the
        unassigned, then colleagues'; oldest change first within each. Returns a page and the
        total count."""
        queued = (own_rows(actor.authority.id), P.closed.is_(False), P.held.is_(True))
        groups: list[ColumnElement[bool]] = [P.assignee_id.is_(None)]
        if actor.user_id is not None:
            groups = [
                P.assignee_id == actor.user_id,
                P.assignee_id.is_(None),
                P.assignee_id != actor.user_id,
            ]
        else:
            groups.append(P.assignee_id.is_not(None))
        rows: list[Request] = []
        # One range scan per group, in the order shown, until the page is full.
        for group in groups:
            if len(rows) >= limit:
                break
            rows += self._requests(
                select(P.request_id).where(*queued, group).order_by(P.updated_at, P.request_id),
                limit - len(rows),
            )
        total = self.session.scalar(select(func.count()).select_from(P).where(*queued)) or 0
        return rows, total

    def _requests(self, ids: Any, limit: int) -> builtins.list[Request]:
        """The requests of the party rows ``ids`` (a SELECT of ``request_id``, ordered) up
        to ``limit``, in that order."""
        return self._by_ids(builtins.list(self.session.scalars(ids.limit(limit))))

    def _by_ids(self, ids: Sequence[int]) -> builtins.list[Request]:
        """The requests ``ids``, in that order, with their party rows and assignees."""
        if not ids:
            return []
        found = self.session.scalars(
            select(Request).where(Request.id.in_(ids)).options(_WITH_PARTIES, *_UNSHOWN)
        )
        by_id = {r.id: r for r in found}
        return [by_id[i] for i in ids if i in by_id]

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
            query.order_by(Deadline.due_at).limit(limit).options(_WITH_PARTIES)
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

    # --- the list -------------------------------------------------------------------------

    def list(
        self,
        actor: Actor,
        flt: RequestFilter,
        cursor: str | None = None,
        limit: int = 50,
        *,
        count_up_to: int = 0,
    ) -> Page:
        """A page of the requests the actor may see, filtered and sorted, keyset-paginated
        by ``cursor`` (given back as ``next_cursor``); with ``count_up_to``, how many match
        (see :meth:`_capped_count`). Raises Invalid naming ``sort``, ``urgency``,
        ``holder``/``counterpart`` (unknown authority) or ``cursor``."""
        if flt.sort not in SORTS:
            raise Invalid(
                FieldError("sort", N_("must be one of %(SORTS)s"), {"SORTS": ", ".join(SORTS)})
            )
        column, descending = SORTS[flt.sort]
        own = actor.authority.id
        conditions = [own_rows(own), *self._conditions(actor, flt)]
        filtered = builtins.list(conditions)
        if cursor:
            value, last_id = _decode_cursor(cursor, column)
            if descending:
                conditions.append(
                    or_(column < value, and_(column == value, P.request_id < last_id))
                )
            else:
                conditions.append(
                    or_(column > value, and_(column == value, P.request_id > last_id))
                )
        order = (column.desc(), P.request_id.desc()) if descending else (column, P.request_id)
        # A search is two range scans, each in the page's order: references that start with
        # it, and requests whose words match it (the database's full-text index); the page is
        # the first of both, merged.
        branches: builtins.list[builtins.list[ColumnElement[bool]]] = [[]]
        q = (flt.q or "").strip()
        if q:
            branches = []
            start = q.upper()
            if _REFERENCE_START.match(start):
                branches.append([P.reference >= start, P.reference < start + "\uffff"])
            matching = search.matching(self.session, q)
            if matching is not None:
                branches.append([P.request_id.in_(matching)])
        keyed: dict[int, tuple[Any, int]] = {}
        for branch in branches:
            query = self._branch(select(P.request_id, column), flt, *conditions, *branch)
            if not flt.overdue:
                query = query.order_by(*order).limit(limit + 1)
            # Overdue only: the few late requests are read whole and put in order here; in
            # the page's order the database would walk the archive looking for them.
            for request_id, key in self.session.execute(query):
                keyed[request_id] = (key, request_id)
        ordered = sorted(keyed, key=keyed.__getitem__, reverse=descending)[: limit + 1]
        rows = self._by_ids(ordered)
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            key, last = keyed[rows[-1].id]
            next_cursor = _encode_cursor(key, last)
        overdue_ids = self._overdue_among(own, [r.id for r in rows])
        total = None
        if count_up_to:
            # A first page that holds every match is its own count (a search finding a few).
            if cursor is None and next_cursor is None:
                total = len(rows)
            else:
                total = self._capped_count(
                    [self._branch(select(P.request_id), flt, *filtered, *b) for b in branches],
                    count_up_to,
                )
        capped = total is not None and total > count_up_to
        return Page(rows, next_cursor, overdue_ids, total, capped)

    def _branch(self, query: Any, flt: RequestFilter, *conditions: ColumnElement[bool]) -> Any:
        """``query`` over the party rows with ``conditions``, joined to the request row when
        a filter reads it."""
        query = query.where(*conditions)
        if self._needs_request(flt):
            query = query.join(Request, Request.id == P.request_id)
        return query

    def _capped_count(self, branches: Sequence[Any], cap: int) -> int:
        """How many requests the ``branches`` (SELECTs of request ids) give together,
        counting no further than ``cap + 1``: each reads at most ``cap + 1`` ids of its own
        index range, never the whole of it."""
        limited: list[Any] = [b.order_by(None).limit(cap + 1).subquery().select() for b in branches]
        ids: Any = union(*limited) if len(limited) > 1 else limited[0]
        counted = select(func.count()).select_from(ids.subquery())
        return min(self.session.scalar(counted) or 0, cap + 1)

    @staticmethod
    def _needs_request(flt: RequestFilter) -> bool:
        """Whether a filter reads the request row itself (not copied to the party rows)."""
        return bool(flt.counterpart) or flt.holder not in (None, "", "us", "them")

    def _conditions(self, actor: Actor, flt: RequestFilter) -> builtins.list[ColumnElement[bool]]:
        own = actor.authority.id
        conditions: builtins.list[ColumnElement[bool]] = []
        if flt.kind:
            conditions.append(P.kind == flt.kind)
        if flt.state:
            conditions.append(P.state == flt.state)
        if flt.urgency:
            if flt.urgency not in {u.value for u in Urgency}:
                raise Invalid(FieldError("urgency", N_("must be normal or urgent")))
            conditions.append(P.urgency == Urgency(flt.urgency))
        if flt.holder == "us":
            conditions.append(P.held.is_(True))
        elif flt.holder == "them":
            conditions.append(P.held.is_(False))
        elif flt.holder:
            conditions.append(
                Request.holder_authority_id == self._authority_id("holder", flt.holder)
            )
        if flt.counterpart:
            # Named on the request in any role (not "may see it": that is the caller's scope).
            other = self._authority_id("counterpart", flt.counterpart)
            conditions.append(
                or_(
                    Request.requesting_authority_id == other,
                    Request.requested_authority_id == other,
                    Request.executing_authority_id == other,
                )
            )
        if flt.mine:
            conditions.append(P.assignee_id == actor.user_id)
        if flt.overdue:
            # Read from the running deadlines past due (open work, however large the archive
            # grows), not by scanning the authority's rows for them: see :meth:`list`.
            late = select(Deadline.request_id).where(*self._overdue(own))
            conditions.append(P.request_id.in_(late))
        return conditions

    def _authority_id(self, name: str, code: str) -> int:
        found = self.session.scalar(select(Authority.id).where(Authority.code == code.upper()))
        if found is None:
            raise Invalid(FieldError(name, N_("unknown authority %(code)r"), {"code": code}))
        return found

    def _overdue(self, own: int) -> tuple[ColumnElement[bool], ...]:
        """A deadline of authority ``own`` running and past due, as SQL conditions."""
        return (
            Deadline.authority_id == own,
            Deadline.closed_at.is_(None),
            Deadline.paused_at.is_(None),
            Deadline.due_at < self.now,
        )

    def _overdue_among(self, own: int, ids: Sequence[int]) -> set[int]:
        if not ids:
            return set()
        return set(
            self.session.scalars(
                select(Deadline.request_id).where(Deadline.request_id.in_(ids), *self._overdue(own))
            )
        )

    def _count(self, query: Any) -> int:
        return self.session.scalar(select(func.count()).select_from(query.subquery())) or 0

    # --- one request ----------------------------------------------------------------------

    def deadlines(self, request: Request) -> builtins.list[Deadline]:
        """Every deadline of ``request`` (already read through the scoped service), open
        ones first, then by due time."""
        return list(
            self.session.scalars(
                select(Deadline)
                .where(Deadline.request_id == request.id)
                .order_by(Deadline.closed_at.is_not(None), Deadline.due_at)
            )
        )

    def executing_authorities(self, request: Request) -> builtins.list[Authority]:
        """The executing authorities under the request's requested central authority."""
        return list(
            self.session.scalars(
                select(Authority)
                .where(
                    Authority.kind == AuthorityKind.EXECUTING,
                    Authority.parent_id == request.requested_authority_id,
                )
                .order_by(Authority.name)
            )
        )

    def colleagues(self, actor: Actor) -> builtins.list[User]:
        """Active users of the actor's authority (those a request can be assigned to)."""
        return list(
            self.session.scalars(
                select(User)
                .where(User.authority_id == actor.authority.id, User.active.is_(True))
                .order_by(User.username)
            )
        )

    def counterparts(self, actor: Actor) -> builtins.list[Authority]:
        """Central authorities of other states: whom a request can be addressed to."""
        return list(
            self.session.scalars(
                select(Authority)
                .where(
                    Authority.kind == AuthorityKind.CENTRAL,
                    Authority.country != actor.authority.country,
                )
                .order_by(Authority.country, Authority.code)
            )
        )

    def external_requesters(self, actor: Actor) -> builtins.list[Authority]:
        """Central authorities of other states that are not on mla (``external``): those whose
        requests the actor's authority records as received on their behalf."""
        return list(
            self.session.scalars(
                select(Authority)
                .where(
                    Authority.kind == AuthorityKind.CENTRAL,
                    Authority.external.is_(True),
                    Authority.country != actor.authority.country,
                )
                .order_by(Authority.country, Authority.code)
            )
        )

    def users_by_id(self, ids: Sequence[int]) -> dict[int, User]:
        if not ids:
            return {}
        return {u.id: u for u in self.session.scalars(select(User).where(User.id.in_(ids)))}

    def authorities_by_id(self, ids: Sequence[int]) -> dict[int, Authority]:
        if not ids:
            return {}
        rows = self.session.scalars(select(Authority).where(Authority.id.in_(ids)))
        return {a.id: a for a in rows}

    # --- supervisors ----------------------------------------------------------------------

    def authorities_by_code(self, codes: Iterable[str]) -> builtins.list[Authority]:
        """The directory's authorities with these codes (the directory is open to all)."""
        wanted = sorted(set(codes))
        if not wanted:
            return []
        return builtins.list(
            self.session.scalars(select(Authority).where(Authority.code.in_(wanted)))
        )

    def workload(self, actor: Actor) -> builtins.list[WorkloadRow]:
        """Open requests the actor's authority holds, per assignee (None: unassigned), with
        how many have an overdue deadline; busiest first."""
        own = actor.authority.id
        overdue = case(
            (exists().where(Deadline.request_id == P.request_id, *self._overdue(own)), 1),
            else_=0,
        )
        rows = self.session.execute(
            select(P.assignee_id, func.count(), func.sum(overdue))
            .where(own_rows(own), P.held.is_(True), P.closed.is_(False))
            .group_by(P.assignee_id)
        ).all()
        users = self.users_by_id([r[0] for r in rows if r[0] is not None])
        out = [
            WorkloadRow(users.get(uid) if uid else None, n, int(late or 0)) for uid, n, late in rows
        ]
        return sorted(out, key=lambda w: (-w.open, w.user.username if w.user else ""))

    def list_before(
        self,
        actor: Actor,
        flt: RequestFilter,
        cursor: str,
        limit: int = 50,
        *,
        count_up_to: int = 0,
    ) -> Page | None:
        """The page just before the row ``cursor`` names (a cursor of :meth:`cursor_at`):
        :meth:`list` read backwards, in the list's order. None when no ``limit`` rows come
        before it: the previous page is then the first page, read without a cursor.
        Raises like :meth:`list`."""
        if flt.sort not in SORTS:
            raise Invalid(
                FieldError("sort", N_("must be one of %(SORTS)s"), {"SORTS": ", ".join(SORTS)})
            )
        backwards = flt.sort[1:] if flt.sort.startswith("-") else f"-{flt.sort}"
        found = self.list(
            actor,
            replace(flt, sort=backwards),
            cursor=cursor,
            limit=limit,
            count_up_to=count_up_to,
        )
        if found.next_cursor is None:
            return None
        found.rows.reverse()
        return replace(found, next_cursor=self.cursor_at(found.rows[-1], flt.sort))

    @staticmethod
    def cursor_at(row: Request, sort: str) -> str:
        """The cursor that reads the list sorted by ``sort`` on from just after ``row``."""
        column, _descending = SORTS[sort]
        return _encode_cursor(getattr(row, column.key), row.id)

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
            .options(_WITH_PARTIES)
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
            query.options(_WITH_PARTIES)
            .order_by(Deadline.due_at, Deadline.id)
            .offset(offset)
            .limit(limit)
        )
        return [DeadlineRow(d, r) for d, r in self.session.execute(page)], self._count(query)

    def correspondents(self, actor: Actor) -> builtins.list[Authority]:
        """Every authority the actor's can send a request to or receive one from: the
        central authorities of other states, its own executing authorities, and the central
        authority above it; by country and code."""
        own = actor.authority
        related = [
            and_(Authority.kind == AuthorityKind.CENTRAL, Authority.country != own.country),
            Authority.parent_id == own.id,
        ]
        if own.parent_id is not None:
            related.append(Authority.id == own.parent_id)
        return list(
            self.session.scalars(
                select(Authority).where(or_(*related)).order_by(Authority.country, Authority.code)
            )
        )
