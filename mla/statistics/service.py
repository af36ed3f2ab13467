"""Statistics for one authority over a period (Plan of Action II.1h): counts, turnaround per
stage, deadline compliance, the trend of open requests and the ageing of the backlog.

Every figure is an aggregate computed by the database over indexed columns; Python only
shapes the few aggregated rows. Percentiles are nearest-rank (the value at rank
ceil(p * n) in ascending order), found with window functions, so SQLite and PostgreSQL give
the same figures. Business days use the authority's calendar (weekend, public holidays,
closures) through a day -> business-day-number table sent with the query: the business days
between two instants are the difference of their days' numbers; the local date is taken
at the authority's UTC offset at the end of the period (a daylight-saving shift within the
period may move an instant near midnight to the neighbouring day).

Scope: outgoing requests are those the authority made (requesting); incoming those
transmitted to it as requested or executing authority. Nothing here names a request,
a person or a fact: the report holds counts and durations only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from mla.audit.models import Event, EventKind
from mla.authorities.models import Authority
from mla.deadlines.calendar import Calendar
from mla.deadlines.models import Deadline
from mla.deadlines.models import Outcome as DeadlineOutcome
from mla.deadlines.service import DeadlineService
from mla.errors import N_, FieldError, Invalid
from mla.requests.models import Request
from mla.statistics.sql import days_between, local_day

DIMENSIONS = ("counterpart", "kind", "legal_basis", "urgency", "offence_category", "outcome")
DIRECTIONS = ("incoming", "outgoing")
# Stage -> the workflow deadlines whose run measures it (from entering the state that starts
# it to leaving the states it runs through); "whole" is transmission (or creation) to closure.
STAGES: dict[str, tuple[str, ...]] = {
    "acknowledgement": ("acknowledgement",),
    "decision": ("decision",),
    "execution": ("execution",),
}
STAGE_NAMES = (*STAGES, "whole")
# Age bands of open requests, in days since transmission (or creation): (label, from, to).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 31),
    ("31-90", 31, 91),
    ("91-180", 91, 181),
    ("181-365", 181, 366),
    ("366+", 366, None),
)
# How far before the period a stage may have started and still count its holidays exactly.
HOLIDAY_LOOKBACK_YEARS = 3


@dataclass(frozen=True)
class Period:
    """Local dates ``start`` (included) to ``end`` (excluded) on the authority's calendar."""

    label: str
    start: date
    end: date


@dataclass(frozen=True)
class Table:
    """One table of the report: column names and rows of plain values (str, int, float)."""

    name: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class Report:
    authority: str
    period: Period
    dimension: str
    generated_at: datetime
    tables: dict[str, Table]


def parse_period(text: str | None) -> Period:
    """A period from ``2026``, ``2026-Q2``, ``2026-03`` or ``2026-01-01..2026-06-30``.

    Raises Invalid naming ``period`` for anything else (or an empty range)."""
    text = (text or "").strip()
    try:
        if m := re.fullmatch(r"(\d{4})", text):
            year = int(m[1])
            return Period(text, date(year, 1, 1), date(year + 1, 1, 1))
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", text, re.IGNORECASE):
            year, quarter = int(m[1]), int(m[2])
            start = date(year, 3 * quarter - 2, 1)
            return Period(text.upper(), start, _add_months(start, 3))
        if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
            start = date(int(m[1]), int(m[2]), 1)
            return Period(text, start, _add_months(start, 1))
        if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", text):
            start, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            if last >= start:
                return Period(text, start, last + timedelta(days=1))
    except ValueError:
        pass
    raise Invalid(
        FieldError(
            "period",
            N_(
                "give a year (2026), a quarter (2026-Q2), a month (2026-03) or a range "
                "(2026-01-01..2026-06-30)"
            ),
        )
    )


def _add_months(d: date, months: int) -> date:
    index = d.month - 1 + months
    return date(d.year + index // 12, index % 12 + 1, 1)


def check_dimension(dimension: str | None) -> str:
    """``dimension`` if it is one of DIMENSIONS (default ``counterpart``); Invalid naming
    ``dimension`` otherwise."""
    if not dimension:
        return "counterpart"
    if dimension not in DIMENSIONS:
        raise Invalid(
            FieldError(
                "dimension",
                N_("must be one of %(DIMENSIONS)s"),
                {"DIMENSIONS": ", ".join(DIMENSIONS)},
            )
        )
    return dimension


class _Scope:
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


def _label(value: Any, codes: dict[int, str], dimension: str) -> str:
    if dimension == "counterpart":
        return codes.get(value, str(value))
    return str(value)


def _round(value: float | int | None) -> float | int | None:
    if value is None or isinstance(value, int):
        return value
    return round(float(value), 1)


def _percentiles(inner: Any, keys: list[Any], value: Any, business: Any | None) -> Select[Any]:
    """Per group of ``keys``: count, P50 and P90 of ``value`` (and of ``business``), by
    nearest rank over window functions."""
    partition = [inner.c[k] for k in keys]
    ranked_cols = [
        *partition,
        inner.c[value],
        func.row_number().over(partition_by=partition, order_by=inner.c[value]).label("rn"),
        func.count().over(partition_by=partition).label("n"),
    ]
    if business is not None:
        ranked_cols += [
            inner.c[business],
            func.row_number().over(partition_by=partition, order_by=inner.c[business]).label("brn"),
        ]
    ranked = select(*ranked_cols).subquery()
    n = ranked.c.n
    p50, p90 = (n + 1) // 2, (n * 9 + 9) // 10
    cols = [
        *[ranked.c[k] for k in keys],
        func.max(n),
        func.max(case((ranked.c.rn == p50, ranked.c[value]))),
        func.max(case((ranked.c.rn == p90, ranked.c[value]))),
    ]
    if business is not None:
        cols += [
            func.max(case((ranked.c.brn == p50, ranked.c[business]))),
            func.max(case((ranked.c.brn == p90, ranked.c[business]))),
        ]
    return select(*cols).group_by(*[ranked.c[k] for k in keys])


def statistics(
    session: Session,
    authority: Authority,
    period: Period,
    dimension: str,
    now: datetime,
) -> Report:
    """The statistics of ``authority`` over ``period``, broken down by ``dimension``.

    Requires a dimension from DIMENSIONS (see :func:`check_dimension`) and an aware ``now``.
    Guarantees tables ``counts`` (per direction and group: opened, closed, open at the end of
    the period), ``turnaround`` (per direction, group and stage: requests, median and P90 in
    calendar and business days, of stages that ended in the period), ``compliance`` (per
    deadline the authority had to meet, closed in the period: met, missed, and how late the
    missed ones were: median, P90, maximum days), ``outcomes`` (per direction, the requests
    closed in the period by final state, and those closed with grounds, such as a refusal's,
    once under each ground given), ``trend`` (open requests at each month's
    end, up to now) and ``ageing`` (the open requests now, by holder and age band). Counts
    only: no reference, name or fact. Reads only; raises nothing for an empty period.
    """
    scope = _Scope(session, authority, period, now)
    codes: dict[int, str] = {i: c for i, c in session.execute(select(Authority.id, Authority.code))}
    tables = {
        "counts": _counts(scope, dimension, codes),
        "turnaround": _turnaround(scope, dimension, codes),
        "compliance": _compliance(scope),
        "outcomes": _outcomes(scope),
        "trend": _trend(scope),
        "ageing": _ageing(scope, codes),
    }
    return Report(authority.code, period, dimension, now, tables)


def _counts(scope: _Scope, dimension: str, codes: dict[int, str]) -> Table:
    rows: list[tuple[Any, ...]] = []
    for direction in DIRECTIONS:
        started = scope.started(direction)
        query, group = scope.grouped(select(Request), dimension, direction)
        opened = func.sum(case((scope.in_period(started), 1), else_=0))
        closed = func.sum(case((scope.in_period(Request.closed_at), 1), else_=0))
        still_open = func.sum(
            case(
                (or_(Request.closed_at.is_(None), Request.closed_at >= scope.end), 1),
                else_=0,
            )
        )
        stmt = (
            query.with_only_columns(group, opened, closed, still_open, maintain_column_froms=True)
            .where(scope.direction(direction), started < scope.end)
            .group_by(group)
        )
        found = [
            (direction, _label(g, codes, dimension), int(o or 0), int(c or 0), int(s or 0))
            for g, o, c, s in scope.session.execute(stmt)
        ]
        rows += sorted(r for r in found if r[2] or r[3] or r[4])
    return Table("counts", ("direction", "group", "opened", "closed", "open_at_end"), rows)


def _turnaround(scope: _Scope, dimension: str, codes: dict[int, str]) -> Table:
    rows: list[tuple[Any, ...]] = []
    for direction in DIRECTIONS:
        started = scope.started(direction)
        # One pass over the deadlines for every stage, one over the requests for the whole.
        stage_of = case(
            *[(Deadline.name.in_(names), stage) for stage, names in STAGES.items()],
        )
        query, group = scope.grouped(
            select(Request).join(Deadline, Deadline.request_id == Request.id),
            dimension,
            direction,
        )
        query, bdays = scope.with_business_days(query, Deadline.started_at, Deadline.closed_at)
        stages = query.with_only_columns(
            stage_of.label("stage"),
            group.label("grp"),
            days_between(Deadline.started_at, Deadline.closed_at).label("days"),
            bdays.label("bdays"),
            maintain_column_froms=True,
        ).where(
            scope.direction(direction),
            Deadline.name.in_([n for names in STAGES.values() for n in names]),
            scope.in_period(Deadline.closed_at),
            Deadline.outcome.in_([DeadlineOutcome.MET, DeadlineOutcome.MISSED]),
        )
        query, group = scope.grouped(select(Request), dimension, direction)
        query, bdays = scope.with_business_days(query, started, Request.closed_at)
        whole = query.with_only_columns(
            literal("whole").label("stage"),
            group.label("grp"),
            days_between(started, Request.closed_at).label("days"),
            bdays.label("bdays"),
            maintain_column_froms=True,
        ).where(scope.direction(direction), scope.in_period(Request.closed_at))
        parts = [stages, whole]
        inner = union_all(*parts).subquery()
        stmt = _percentiles(inner, ["stage", "grp"], "days", "bdays")
        order = {s: i for i, s in enumerate(STAGE_NAMES)}
        found = [
            (
                direction,
                _label(g, codes, dimension),
                stage,
                int(n),
                _round(m),
                _round(p),
                int(bm),
                int(bp),
            )
            for stage, g, n, m, p, bm, bp in scope.session.execute(stmt)
        ]
        rows += sorted(found, key=lambda r: (r[1], order[r[2]]))
    return Table(
        "turnaround",
        (
            "direction",
            "group",
            "stage",
            "requests",
            "median_days",
            "p90_days",
            "median_business_days",
            "p90_business_days",
        ),
        rows,
    )


def _compliance(scope: _Scope) -> Table:
    closed = and_(
        Deadline.authority_id == scope.authority.id,
        scope.in_period(Deadline.closed_at),
        Deadline.outcome.in_([DeadlineOutcome.MET, DeadlineOutcome.MISSED]),
    )
    counts = scope.session.execute(
        select(
            Deadline.name,
            func.sum(case((Deadline.outcome == DeadlineOutcome.MET, 1), else_=0)),
            func.sum(case((Deadline.outcome == DeadlineOutcome.MISSED, 1), else_=0)),
        )
        .where(closed)
        .group_by(Deadline.name)
    ).all()
    late = (
        select(
            Deadline.name.label("name"),
            days_between(Deadline.due_at, Deadline.closed_at).label("late"),
        )
        .where(closed, Deadline.outcome == DeadlineOutcome.MISSED)
        .subquery()
    )
    lateness = {
        name: (m, p)
        for name, _n, m, p in scope.session.execute(_percentiles(late, ["name"], "late", None))
    }
    latest: dict[str, float] = {
        name: value
        for name, value in scope.session.execute(
            select(late.c.name, func.max(late.c.late)).group_by(late.c.name)
        )
    }
    rows = [
        (
            name,
            int(met or 0),
            int(missed or 0),
            _round(lateness.get(name, (None, None))[0]),
            _round(lateness.get(name, (None, None))[1]),
            _round(latest.get(name)),
        )
        for name, met, missed in sorted(counts)
    ]
    return Table(
        "compliance",
        ("deadline", "met", "missed", "late_median_days", "late_p90_days", "late_max_days"),
        rows,
    )


def _outcomes(scope: _Scope) -> Table:
    """Closed requests by final state (executed, partially executed, refused, returned,
    withdrawn, lapsed: the workflow's final states), and by each ground given on the
    transition into that state (a refusal's ``grounds`` input): a request refused on two
    grounds counts once under each, so the ground rows need not add up to the refusals.
    Asset amounts per currency (issue 15's register) would be a table beside this one."""
    rows: list[tuple[Any, ...]] = []
    for direction in DIRECTIONS:
        closed = and_(scope.direction(direction), scope.in_period(Request.closed_at))
        found: list[tuple[Any, ...]] = [
            (direction, outcome, "", int(n))
            for outcome, n in scope.session.execute(
                select(Request.outcome, func.count()).where(closed).group_by(Request.outcome)
            )
        ]
        grounds_of = Event.data["inputs"]["grounds"]
        if scope.dialect == "postgresql":
            each = func.jsonb_array_elements_text(grounds_of).table_valued("value").lateral()
        else:
            each = func.json_each(Event.data, "$.inputs.grounds").table_valued("value")
        stmt = (
            select(Request.outcome, each.c.value, func.count(Request.id.distinct()))
            .select_from(Request)
            .join(Event, Event.request_id == Request.id)
            .join(each, true())
            .where(
                closed,
                Event.kind == EventKind.TRANSITION.value,
                Event.data["to"].as_string() == Request.outcome,
            )
            .group_by(Request.outcome, each.c.value)
        )
        found += [(direction, o, str(g), int(n)) for o, g, n in scope.session.execute(stmt)]
        rows += sorted(found)
    return Table("outcomes", ("direction", "outcome", "ground", "requests"), rows)


def _month_ends(scope: _Scope) -> list[tuple[str, datetime]]:
    out: list[tuple[str, datetime]] = []
    month = scope.period.start.replace(day=1)
    while month < scope.period.end:
        after = min(_add_months(month, 1), scope.period.end)
        instant = scope.calendar.start_of_day(after)
        # The month under way counts up to now; later months are not there yet.
        out.append((month.strftime("%Y-%m"), min(instant, scope.now)))
        if instant > scope.now:
            break
        month = after
    return out


def _trend(scope: _Scope) -> Table:
    """Open at a month's end = begun before it - closed before it. One pass per direction
    counts requests by (the first month end after their start, the first after their
    closure); the running sums over those few groups give every month."""
    ends = _month_ends(scope)
    rows: list[tuple[Any, ...]] = [(label,) for label, _ in ends]

    def month_of(moment: Any) -> Any:
        # The index of the first month end after ``moment``; NULL past the last one.
        return case(*[(moment < at, k) for k, (_, at) in enumerate(ends)])

    for direction in DIRECTIONS:
        started = scope.started(direction)
        opened_in, closed_in = month_of(started), month_of(Request.closed_at)
        begun, ended = [0] * len(ends), [0] * len(ends)
        for o, c, n in scope.session.execute(
            select(opened_in, closed_in, func.count())
            .where(scope.direction(direction), started < ends[-1][1])
            .group_by(opened_in, closed_in)
        ):
            begun[o] += n
            if c is not None:
                ended[c] += n
        open_now = 0
        counts = []
        for b, e in zip(begun, ended, strict=True):
            open_now += b - e
            counts.append(open_now)
        rows = [(*row, n) for row, n in zip(rows, counts, strict=True)]
    return Table("trend", ("month", "incoming_open", "outgoing_open"), rows)


def _ageing(scope: _Scope, codes: dict[int, str]) -> Table:
    since = func.coalesce(Request.transmitted_at, Request.created_at)
    age = days_between(since, literal(scope.now, type_=Request.created_at.type))
    band = case(
        *[((age < upper), label) for label, _lower, upper in AGE_BANDS if upper is not None],
        else_=AGE_BANDS[-1][0],
    )
    own = scope.authority.id
    found = scope.session.execute(
        select(Request.holder_authority_id, band, func.count())
        .where(
            or_(scope.direction("outgoing"), scope.direction("incoming")),
            Request.closed_at.is_(None),
        )
        .group_by(Request.holder_authority_id, band)
    ).all()
    holders: dict[str, dict[str, int]] = {}
    for holder, label, n in found:
        name = codes.get(holder, str(holder))
        holders.setdefault(name, {})[label] = int(n)
    labels = [b[0] for b in AGE_BANDS]
    own_code = codes.get(own, "")
    rows = [
        (name, *[bands.get(label, 0) for label in labels], sum(bands.values()))
        for name, bands in sorted(holders.items(), key=lambda kv: (kv[0] != own_code, kv[0]))
    ]
    return Table("ageing", ("holder", *labels, "total"), rows)
