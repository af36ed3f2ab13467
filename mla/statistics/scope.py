"""The SQL pieces every query of one report shares: the authority, the period's instants,
its requests in each direction (read from covering indexes) and the dimension's group column
(of a request, or of a stage run)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    func,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from mla.authorities.models import Authority
from mla.deadlines.calendar import Calendar
from mla.deadlines.service import DeadlineService
from mla.requests.models import Request
from mla.statistics.models import StageRun
from mla.statistics.report import Period
from mla.statistics.sql import unindexed

# What the statistics read of a request: every column of the covering indexes by party.
STATISTICS_COLUMNS = (
    Request.id,
    Request.requesting_authority_id,
    Request.requested_authority_id,
    Request.executing_authority_id,
    Request.holder_authority_id,
    Request.kind,
    Request.legal_basis,
    Request.urgency,
    Request.outcome,
    Request.offence_categories,
    Request.created_at,
    Request.transmitted_at,
    Request.closed_at,
)


class Scope:
    """The SQL pieces every query of one report shares: the authority, the period's instants,
    the authority's requests in each direction and the dimension's group column."""

    def __init__(self, session: Session, authority: Authority, period: Period, now: datetime):
        self.session = session
        self.authority = authority
        self.period = period
        self.now = now
        self.calendar: Calendar = DeadlineService(session).calendar(authority)
        self.start = self.calendar.start_of_day(period.start)
        self.end = self.calendar.start_of_day(period.end)
        self.dialect = session.get_bind().dialect.name
        if self.dialect == "postgresql":
            # The report's queries read a few hundred thousand index entries at most; the
            # planner, which takes every JSON list for a hundred elements, would compile
            # them to machine code for estimated millions, which costs more than it saves
            # (offence categories at 100k requests: 1.0 s with it, 0.35 s without). For
            # this transaction only.
            session.execute(text("SET LOCAL jit = off"))

    # -- directions --------------------------------------------------------------------

    def requests(self, *directions: str) -> Any:
        """The authority's requests in ``directions`` (outgoing: those it made; incoming:
        those transmitted to it as requested or executing authority), as an alias of Request
        over a subquery of the columns the statistics read. Each party role is one branch of
        a UNION ALL, excluding the requests an earlier branch took, so that no request
        counts twice and each branch is one range of a covering index (``ix_request_*_stats``):
        the database never reads the request rows themselves."""
        own = self.authority.id
        roles: list[Any] = []
        if "outgoing" in directions:
            roles.append(Request.requesting_authority_id)
        if "incoming" in directions:
            roles += [Request.requested_authority_id, Request.executing_authority_id]
        branches = []
        for k, role in enumerate(roles):
            where = [role == own, *[earlier != own for earlier in roles[:k]]]
            if role is not Request.requesting_authority_id:
                where.append(Request.transmitted_at.is_not(None))
            branches.append(select(*STATISTICS_COLUMNS).where(*where))
        rows = branches[0] if len(branches) == 1 else union_all(*branches)
        return aliased(Request, rows.subquery("party"))

    @staticmethod
    def started(name: str, r: Any) -> Any:
        """When a request began for the authority: made (outgoing) or received (incoming)."""
        return r.created_at if name == "outgoing" else r.transmitted_at

    @staticmethod
    def counterpart(name: str, r: Any) -> Any:
        return r.requested_authority_id if name == "outgoing" else r.requesting_authority_id

    def in_period(self, column: Any) -> ColumnElement[bool]:
        return and_(column >= self.start, column < self.end)

    # -- groups ----------------------------------------------------------------------------

    def grouped(
        self, query: Select[Any], dimension: str, direction: str, r: Any
    ) -> tuple[Select[Any], Any]:
        """``query`` (over ``r``, see :meth:`requests`) with the dimension's group column
        added to its FROM, and that column. Offence categories unnest the request's list: a
        request counts once under each of its categories, and not at all when it has none.
        The column is kept from SQLite's choice of index (see :class:`unindexed`)."""
        if dimension == "counterpart":
            return query, unindexed(self.counterpart(direction, r))
        if dimension == "offence_category":
            return self.each_element(query, r.offence_categories)
        column = {
            "kind": r.kind,
            "legal_basis": r.legal_basis,
            "urgency": r.urgency,
            "outcome": func.coalesce(r.outcome, "open"),
        }[dimension]
        return query, unindexed(column)

    def grouped_runs(
        self, query: Select[Any], dimension: str, run: Any = StageRun
    ) -> tuple[Select[Any], Any]:
        """``query`` (over :class:`StageRun`, or ``run``, an alias of it) with the
        dimension's group column of a run added to its FROM, and that column: the copies of
        the request's columns the run carries, offence categories unnested as in
        :meth:`grouped`."""
        if dimension == "offence_category":
            return self.each_element(query, run.offence_categories)
        column = {
            "counterpart": run.counterpart_id,
            "kind": run.kind,
            "legal_basis": run.legal_basis,
            "urgency": run.urgency,
            "outcome": func.coalesce(run.outcome, "open"),
        }[dimension]
        return query, column

    def each_element(self, query: Select[Any], values: Any) -> tuple[Select[Any], Any]:
        """``query`` joined to each element of the JSON list ``values``, and the element."""
        if self.dialect == "postgresql":
            each = func.jsonb_array_elements_text(values).table_valued("value").lateral()
        else:
            each = func.json_each(values).table_valued("value")
        return query.join(each, true()), each.c.value
