"""Read-only queries behind the clerks' screens: queues, deadlines, lists, workload.

Every query is scoped to the actor's authority: a request appears only if the authority is
party to it, a deadline only if the authority must meet it. Nothing here writes.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from mla.audit.models import CHANGES, Event
from mla.authorities.models import Authority, AuthorityKind, User
from mla.db import parse_id
from mla.deadlines.models import Deadline
from mla.errors import N_, FieldError, Invalid
from mla.requests.models import Request, Urgency
from mla.requests.scope import Actor, party_of

# sort key -> (column, descending)
SORTS: dict[str, tuple[Any, bool]] = {
    "-updated": (Request.updated_at, True),
    "updated": (Request.updated_at, False),
    "-created": (Request.created_at, True),
    "created": (Request.created_at, False),
    "reference": (Request.reference, False),
    "-reference": (Request.reference, True),
}


@dataclass(frozen=True)
class DeadlineRow:
    deadline: Deadline
    request: Request


@dataclass(frozen=True)
class RequestFilter:
    """What the request list shows. ``holder``: ``us``, ``them`` or an authority code;
    ``counterpart``: an authority code; ``q``: a reference, their reference or a name."""

    kind: str | None = None
    state: str | None = None
    holder: str | None = None
    counterpart: str | None = None
    urgency: str | None = None
    overdue: bool = False
    q: str | None = None
    sort: str = "-updated"
    # Assigned to the actor (the list's "my requests").
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
        if column is not Request.reference:
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
        base = select(Request).where(
            party_of(actor.authority.id),
            Request.holder_authority_id == actor.authority.id,
            Request.closed_at.is_(None),
        )
        mine = case(
            (Request.assignee_id == actor.user_id, 0), (Request.assignee_id.is_(None), 1), else_=2
        )
        rows = self.session.scalars(base.order_by(mine, Request.updated_at).limit(limit))
        return list(rows), self._count(base)

    def _open_deadlines(self, actor: Actor) -> Any:
        # The authority that must meet a deadline watches it. So does the one holding the
        # request while the requested state's clock runs (a detention clock the requested
        # state keeps while the formal request is the requesting state's to send); the
        # requesting side's own reminders are not the requested side's to watch.
        return (
            select(Deadline, Request)
            .join(Request, Request.id == Deadline.request_id)
            .where(
                or_(
                    Deadline.authority_id == actor.authority.id,
                    and_(
                        Request.holder_authority_id == actor.authority.id,
                        Deadline.authority_id == Request.requested_authority_id,
                    ),
                ),
                Deadline.closed_at.is_(None),
                Deadline.paused_at.is_(None),
                party_of(actor.authority.id),
            )
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
        rows = self.session.execute(query.order_by(Deadline.due_at).limit(limit))
        return [DeadlineRow(d, r) for d, r in rows], self._count(query)

    def recent_from_others(
        self, actor: Actor, since: timedelta = timedelta(days=7), limit: int = 20
    ) -> list[tuple[Request, Event]]:
        """Requests the other side changed lately, newest first, with that change."""
        latest = (
            select(Event.request_id, func.max(Event.id).label("event_id"))
            .join(Request, Request.id == Event.request_id)
            .where(
                party_of(actor.authority.id),
                Event.kind.in_([str(k) for k in CHANGES]),
                Event.actor_authority_id != actor.authority.id,
                Event.at >= self.now - since,
            )
            .group_by(Event.request_id)
            .subquery()
        )
        query = (
            select(Request, Event)
            .join(latest, latest.c.request_id == Request.id)
            .join(Event, Event.id == latest.c.event_id)
            .order_by(Event.id.desc())
            .limit(limit)
        )
        return [(r, e) for r, e in self.session.execute(query)]

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
        query = select(Request).where(party_of(own))
        conditions: list[ColumnElement[bool]] = []
        if flt.kind:
            conditions.append(Request.kind == flt.kind)
        if flt.state:
            conditions.append(Request.state == flt.state)
        if flt.urgency:
            if flt.urgency not in {u.value for u in Urgency}:
                raise Invalid(FieldError("urgency", N_("must be normal or urgent")))
            conditions.append(Request.urgency == Urgency(flt.urgency))
        if flt.holder == "us":
            conditions.append(Request.holder_authority_id == own)
        elif flt.holder == "them":
            conditions.append(Request.holder_authority_id != own)
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
        if flt.overdue:
            conditions.append(self._overdue_exists(own))
        if flt.mine:
            mine = actor.user_id
            conditions.append(false() if mine is None else Request.assignee_id == mine)
        if flt.q and flt.q.strip():
            conditions.append(self._matches(flt.q.strip()))
        query = query.where(*conditions)
        filtered = query
        if cursor:
            value, last_id = _decode_cursor(cursor, column)
            if descending:
                query = query.where(
                    or_(column < value, and_(column == value, Request.id < last_id))
                )
            else:
                query = query.where(
                    or_(column > value, and_(column == value, Request.id > last_id))
                )
        order = (column.desc(), Request.id.desc()) if descending else (column, Request.id)
        rows = list(self.session.scalars(query.order_by(*order).limit(limit + 1)))
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            next_cursor = _encode_cursor(getattr(last, column.key), last.id)
        overdue_ids = self._overdue_among(own, [r.id for r in rows])
        total = None
        if count_up_to:
            # A first page that holds every match is its own count (a search finding a few).
            whole = cursor is None and next_cursor is None
            total = len(rows) if whole else self._capped_count(filtered, count_up_to)
        capped = total is not None and total > count_up_to
        return Page(rows, next_cursor, overdue_ids, total, capped)

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

    def _overdue_exists(self, own: int) -> ColumnElement[bool]:
        return exists().where(Deadline.request_id == Request.id, *self._overdue(own))

    def _overdue_among(self, own: int, ids: Sequence[int]) -> set[int]:
        if not ids:
            return set()
        return set(
            self.session.scalars(
                select(Deadline.request_id).where(Deadline.request_id.in_(ids), *self._overdue(own))
            )
        )

    @staticmethod
    def _matches(q: str) -> ColumnElement[bool]:
        # Escape LIKE's wildcards: a clerk searching "50%" means the characters.
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        # Names live in the JSON fields; SQLite stores non-ASCII as \u escapes, so look for
        # that spelling too.
        escaped = json.dumps(q)[1:-1]
        escaped_like = (
            "%" + escaped.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        text = cast(Request.fields, String)
        return or_(
            Request.reference.ilike(like, escape="\\"),
            Request.their_reference.ilike(like, escape="\\"),
            text.ilike(like, escape="\\"),
            text.ilike(escaped_like, escape="\\"),
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

    def authorities_by_code(self, codes: Iterable[str]) -> builtins.list[Authority]:
        """The directory's authorities with these codes (the directory is open to all)."""
        wanted = sorted(set(codes))
        if not wanted:
            return []
        return builtins.list(
            self.session.scalars(select(Authority).where(Authority.code.in_(wanted)))
        )

    # --- supervisors ----------------------------------------------------------------------

    def workload(self, actor: Actor) -> builtins.list[WorkloadRow]:
        """Open requests the actor's authority holds, per assignee (None: unassigned), with
        how many have an overdue deadline; busiest first."""
        own = actor.authority.id
        overdue = case((self._overdue_exists(own), 1), else_=0)
        rows = self.session.execute(
            select(Request.assignee_id, func.count(), func.sum(overdue))
            .where(
                party_of(own),
                Request.holder_authority_id == own,
                Request.closed_at.is_(None),
            )
            .group_by(Request.assignee_id)
        ).all()
        users = self.users_by_id([r[0] for r in rows if r[0] is not None])
        out = [
            WorkloadRow(users.get(uid) if uid else None, n, int(late or 0)) for uid, n, late in rows
        ]
        return sorted(out, key=lambda w: (-w.open, w.user.username if w.user else ""))

    # --- the clerk's queue and list, paged both ways --------------------------------------

    def _capped_count(self, query: Any, cap: int) -> int:
        """How many rows ``query`` gives, counting no further than ``cap + 1``: reading the
        first ``cap + 1`` ids of the list's own index range, never the whole of it."""
        ids = query.with_only_columns(Request.id).order_by(None).limit(cap + 1)
        return self.session.scalar(select(func.count()).select_from(ids.subquery())) or 0

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
            raise Invalid(FieldError("sort", f"must be one of {', '.join(SORTS)}"))
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
        page = query.order_by(Deadline.due_at, Deadline.id).offset(offset).limit(limit)
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
