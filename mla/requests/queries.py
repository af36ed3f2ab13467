"""Read-only queries behind the clerks' screens: lists, one request, workload (the
dashboard's are :mod:`mla.requests.dashboard`).

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
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select, union
from sqlalchemy.orm import defer, selectinload

from mla.authorities.models import Authority, User
from mla.db import parse_id
from mla.deadlines.models import Deadline
from mla.errors import N_, FieldError, Invalid
from mla.requests import search
from mla.requests.lookups import Lookups
from mla.requests.models import Request, RequestParty, Urgency
from mla.requests.scope import Actor, own_rows

P = RequestParty  # the actor's own party rows, which the lists read
# What a row shown with its assignee needs loaded (the actor's own party's assignee: the
# user comes from the session's identity map, or one lookup by id).
WITH_PARTIES = selectinload(Request.parties)
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
# Up to how many requests matching a search's words are read by id before the page (see
# :meth:`RequestQueries.list`); past it the page walks the authority's rows in its order.
_FEW_MATCHES = 500
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


class RequestQueries(Lookups):
    """The screens' queries over one session, at ``now``."""

    def _by_ids(self, ids: Sequence[int]) -> builtins.list[Request]:
        """The requests ``ids``, in that order, with their party rows and assignees."""
        if not ids:
            return []
        found = self.session.scalars(
            select(Request).where(Request.id.in_(ids)).options(WITH_PARTIES, *_UNSHOWN)
        )
        by_id = {r.id: r for r in found}
        return [by_id[i] for i in ids if i in by_id]

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
                # A few matches (a name, a case number) are read first and named: the
                # planner then reads just their party rows. PostgreSQL cannot tell a few from
                # many from its statistics of the words (a prefix least of all), and would
                # walk the authority's every row in the page's order looking for them.
                few = self.session.scalars(matching.limit(_FEW_MATCHES + 1)).all()
                if len(few) <= _FEW_MATCHES:
                    branches.append([P.request_id.in_(few)])
                else:
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

    # --- supervisors ----------------------------------------------------------------------

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
