"""The SQL pieces every query of one report shares: the authority, the period's instants,
its requests in each direction (read from covering indexes), the dimension's group column
and the business-day expression (the authority's calendar as a day -> business-day-number
list sent with the query as one parameter)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    LargeBinary,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import Grouping

from mla.authorities.models import Authority
from mla.deadlines.calendar import Calendar
from mla.deadlines.service import DeadlineService
from mla.requests.models import Request
from mla.statistics.report import Period
from mla.statistics.sql import local_day, unindexed

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
# Digits of one day's business-day ordinal in the packed calendar (up to 99,999 days).
ORDINAL_WIDTH = 5
# How far before the period a stage may have started and still count its holidays exactly.
HOLIDAY_LOOKBACK_YEARS = 3


class Scope:
    """The SQL pieces every query of one report shares: the authority, the period's instants,
    the authority's requests in each direction and the business-day expression."""

    def __init__(self, session: Session, authority: Authority, period: Period, now: datetime):
        self.session = session
        self.authority = authority
        self.period = period
        self.now = now
        self.calendar: Calendar = DeadlineService(session).calendar(authority)
        self.start = self.calendar.start_of_day(period.start)
        self.end = self.calendar.start_of_day(period.end)
        offset = self.calendar.tz.utcoffset(self.end.replace(tzinfo=None))
        self.offset = int(offset.total_seconds()) if offset else 0
        self.dialect = session.get_bind().dialect.name
        self._first, self._last, ordinals = self._ordinals()
        self._calendar = self._packed(ordinals)

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

    # -- business days -------------------------------------------------------------------

    def _ordinals(self) -> tuple[int, int, list[int]]:
        """The calendar as a list: for each local day from the day before ``first``
        (ordinal 0) to ``last``, two days past the period, the business days from ``first``
        through that day; with the day numbers ``first`` (the lookback's start) and
        ``last``."""
        first = date(self.period.start.year - HOLIDAY_LOOKBACK_YEARS, 1, 1)
        # Up to two days past the period: a fixed offset may put an instant near midnight
        # on the next local day.
        last = self.period.end + timedelta(days=2)
        epoch = date(1970, 1, 1)
        d = first - timedelta(days=1)
        ordinals, ordinal = [0], 0
        while d < last:
            d += timedelta(days=1)
            if d.weekday() not in self.calendar.weekend and not self.calendar.is_holiday(d):
                ordinal += 1
            ordinals.append(ordinal)
        return (first - epoch).days, (d - epoch).days, ordinals

    def _packed(self, ordinals: list[int]) -> Any:
        """The ordinals as one query parameter, looked up by position: no join, so no plan
        (nor missing table statistics) can turn the look-up into a scan per row. An integer
        array on PostgreSQL; on SQLite a blob of ORDINAL_WIDTH digits a day, since
        ``substr`` cuts a blob at a byte offset (text it would walk character by
        character)."""
        if self.dialect == "postgresql":
            return bindparam("business_days", ordinals, type_=ARRAY(Integer))
        packed = "".join(f"{n:0{ORDINAL_WIDTH}d}" for n in ordinals).encode("ascii")
        return bindparam("business_days", packed, type_=LargeBinary())

    def _ordinal(self, day: Any) -> Any:
        """The business days from ``first`` through local day number ``day`` (clamped to
        the listed days by the caller)."""
        index = day - (self._first - 1)
        if self.dialect == "postgresql":
            # (param::INTEGER[])[i]: the cast must be parenthesised; arrays count from 1.
            return Grouping(self._calendar)[index + 1]
        digits = func.substr(self._calendar, index * ORDINAL_WIDTH + 1, ORDINAL_WIDTH)
        return cast(digits, Integer)

    def _weekdays_through(self, day: Any) -> Any:
        """Non-weekend days from Monday 1969-12-29 through local day number ``day``."""
        shifted = day + 3  # day 0, 1970-01-01, was a Thursday
        working = [w for w in range(7) if w not in self.calendar.weekend]
        within = case(
            *[(shifted % 7 == r, sum(1 for w in working if w <= r)) for r in range(6)],
            else_=len(working),
        )
        return (shifted // 7) * len(working) + within

    def with_business_days(
        self, query: Select[Any], start: Any, end: Any
    ) -> tuple[Select[Any], Any]:
        """``query``, and the business days after ``start``'s local date up to and including
        ``end``'s, as :meth:`Calendar.business_days_between` counts them: the difference of
        two ordinals, so each row costs two look-ups in the packed calendar, not a test per
        holiday. Days before the lookback count weekends only (their holidays are not
        loaded); days past the period are taken as its last."""
        first, last = self._first, self._last
        a = local_day(start, literal(self.offset))
        b = local_day(end, literal(self.offset))
        before = first - 1
        on_a = self._ordinal(case((a < before, before), (a > last, last), else_=a))
        on_b = self._ordinal(case((b < before, before), (b > last, last), else_=b))
        early = case(
            (a < before, self._weekdays_through(literal(before)) - self._weekdays_through(a)),
            else_=0,
        )
        return query, on_b - on_a + early

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
            if self.dialect == "postgresql":
                each = (
                    func.jsonb_array_elements_text(r.offence_categories)
                    .table_valued("value")
                    .lateral()
                )
            else:
                each = func.json_each(r.offence_categories).table_valued("value")
            return query.join(each, true()), each.c.value
        column = {
            "kind": r.kind,
            "legal_basis": r.legal_basis,
            "urgency": r.urgency,
            "outcome": func.coalesce(r.outcome, "open"),
        }[dimension]
        return query, unindexed(column)
