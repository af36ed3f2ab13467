"""The SQL pieces every query of one report shares: the authority, the period's instants,
the direction conditions, the dimension's group column and the business-day expression
(the authority's calendar as a day -> business-day-number table sent with the query)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    column,
    func,
    literal,
    or_,
    text,
    true,
)
from sqlalchemy.orm import Session

from mla.authorities.models import Authority
from mla.deadlines.calendar import Calendar
from mla.deadlines.service import DeadlineService
from mla.requests.models import Request
from mla.statistics.report import Period
from mla.statistics.sql import local_day

# How far before the period a stage may have started and still count its holidays exactly.
HOLIDAY_LOOKBACK_YEARS = 3


class Scope:
    """The SQL pieces every query of one report shares: the authority, the period's instants,
    the direction conditions and the business-day expression."""

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
        self._first, self._last, self._table = self._ordinals()
        # One alias of each end for every query of the report (a union repeats them).
        self._day_a, self._day_b = self._table.alias("day_a"), self._table.alias("day_b")

    # -- directions --------------------------------------------------------------------

    def direction(self, name: str) -> ColumnElement[bool]:
        own = self.authority.id
        if name == "outgoing":
            return Request.requesting_authority_id == own
        return and_(
            Request.transmitted_at.is_not(None),
            or_(Request.requested_authority_id == own, Request.executing_authority_id == own),
        )

    @staticmethod
    def started(name: str) -> Any:
        """When a request began for the authority: made (outgoing) or received (incoming)."""
        return Request.created_at if name == "outgoing" else Request.transmitted_at

    @staticmethod
    def counterpart(name: str) -> Any:
        return (
            Request.requested_authority_id
            if name == "outgoing"
            else Request.requesting_authority_id
        )

    # -- business days -------------------------------------------------------------------

    def _ordinals(self) -> tuple[int, int, Any]:
        """The calendar as a small table: (day number, business days from ``first`` through
        that day), one row per local day from the day before ``first`` (ordinal 0) to
        ``last``, two days past the period; with the day numbers ``first`` (the lookback's
        start) and ``last``."""
        first = date(self.period.start.year - HOLIDAY_LOOKBACK_YEARS, 1, 1)
        # Up to two days past the period: a fixed offset may put an instant near midnight
        # on the next local day.
        last = self.period.end + timedelta(days=2)
        epoch = date(1970, 1, 1)
        d = first - timedelta(days=1)
        rows, ordinal = [((d - epoch).days, 0)], 0
        while d < last:
            d += timedelta(days=1)
            if d.weekday() not in self.calendar.weekend and not self.calendar.is_holiday(d):
                ordinal += 1
            rows.append(((d - epoch).days, ordinal))
        # The rows as SQL text (integers only, made here): a few thousand bound parameters
        # or literal-rendered values would cost more to compile than the query takes to run.
        # VALUES names its columns column1, column2 on both SQLite and PostgreSQL.
        rendered = ", ".join(f"({day}, {n})" for day, n in rows)
        table = (
            text(f"SELECT column1 AS day, column2 AS ordinal FROM (VALUES {rendered}) AS v")  # noqa: S608
            .columns(column("day", Integer), column("ordinal", Integer))
            .cte("business_day")
        )
        return (first - epoch).days, (d - epoch).days, table

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
        """``query`` joined twice to the calendar table, and the business days after
        ``start``'s local date up to and including ``end``'s, as
        :meth:`Calendar.business_days_between` counts them: the difference of two ordinals,
        so each row costs two indexed look-ups, not a test per holiday. Days before the
        lookback count weekends only (their holidays are not loaded); days past the period
        are taken as its last."""
        first, last = self._first, self._last
        a = local_day(start, literal(self.offset))
        b = local_day(end, literal(self.offset))
        before = first - 1
        on_a, on_b = self._day_a, self._day_b
        query = query.join(
            on_a, on_a.c.day == case((a < before, before), (a > last, last), else_=a)
        ).join(on_b, on_b.c.day == case((b < before, before), (b > last, last), else_=b))
        early = case(
            (a < before, self._weekdays_through(literal(before)) - self._weekdays_through(a)),
            else_=0,
        )
        return query, on_b.c.ordinal - on_a.c.ordinal + early

    def in_period(self, column: Any) -> ColumnElement[bool]:
        return and_(column >= self.start, column < self.end)

    # -- groups ----------------------------------------------------------------------------

    def grouped(
        self, query: Select[Any], dimension: str, direction: str
    ) -> tuple[Select[Any], Any]:
        """``query`` (over Request) with the dimension's group column added to its FROM, and
        that column. Offence categories unnest the request's list: a request counts once
        under each of its categories, and not at all when it has none."""
        if dimension == "counterpart":
            return query, self.counterpart(direction)
        if dimension == "offence_category":
            if self.dialect == "postgresql":
                each = (
                    func.jsonb_array_elements_text(Request.offence_categories)
                    .table_valued("value")
                    .lateral()
                )
            else:
                each = func.json_each(Request.offence_categories).table_valued("value")
            return query.join(each, true()), each.c.value
        column = {
            "kind": Request.kind,
            "legal_basis": Request.legal_basis,
            "urgency": Request.urgency,
            "outcome": func.coalesce(Request.outcome, "open"),
        }[dimension]
        return query, column
