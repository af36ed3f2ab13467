"""The tables of activity in the period: counts, turnaround per stage, deadline compliance
and outcomes. Each is a few aggregate queries; percentiles are nearest-rank, from running sums
over the count of each distinct value, so both databases give the same figures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import BigInteger, and_, case, cast, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from mla.deadlines.models import Deadline
from mla.deadlines.models import Outcome as DeadlineOutcome
from mla.statistics.models import StageRun
from mla.statistics.report import DIRECTIONS, STAGE_NAMES, Table
from mla.statistics.runs import WHOLE
from mla.statistics.scope import Scope
from mla.statistics.sql import days_between

# Joins a query to each element of a JSON list column: (query, list) -> (query, element).
Each = Callable[[Any, Any], tuple[Any, Any]]


def _label(value: Any, codes: dict[int, str], dimension: str) -> str:
    if dimension == "counterpart":
        return codes.get(value, str(value))
    return str(value)


def _round(value: float | int | None) -> float | int | None:
    if value is None or isinstance(value, int):
        return value
    return round(float(value), 1)


def _percentiles(
    inner: Any,
    keys: list[str],
    values: list[str],
    each: Each | None = None,
    weight: str | None = None,
) -> Any:
    """Per group of ``keys`` and each column of ``values`` (its index in ``values`` as column
    ``measure``): count, P50 and P90 by nearest rank (the value at rank ceil(p * n)), and
    the maximum.

    The rows are counted per distinct value first (a histogram: stage durations are tenths
    of a day or whole business days, so a group has few distinct values however many runs
    it holds, and calendar and business days go together), and the ranks are running sums
    over those counts: no window function
    numbers every row, and no sort of every row on PostgreSQL, which hashes the counting
    (its ``percentile_disc``, the same definition, sorted each group: 1.8 s where this
    takes 0.3 s at a million requests).

    ``each``: the last key is a JSON list (offence categories) whose elements are the groups,
    unnested by ``each`` (:meth:`Scope.each_element`) once the rows are counted per distinct
    list, rather than row by row before (which doubled the rows SQLite sorts).
    ``weight``: a column of ``inner`` that counts the rows each of its rows stands for."""
    groups = [inner.c[k] for k in keys]
    # One pass counts each distinct combination of the values (one sort on SQLite); each
    # value's histogram then sums those few rows.
    combined: Any = (
        select(
            *groups,
            *[inner.c[v] for v in values],
            (func.count() if weight is None else func.sum(inner.c[weight])).label("c"),
        )
        .group_by(*groups, *[inner.c[v] for v in values])
        .cte("combined")
    )
    if each is not None:
        query, element = each(select(combined), combined.c[keys[-1]])
        combined = query.with_only_columns(
            *[combined.c[k] for k in keys[:-1]],
            element.label(keys[-1]),
            *[combined.c[v] for v in values],
            combined.c.c,
            maintain_column_froms=True,
        ).cte("unnested")
    counted = union_all(
        *[
            select(
                *[combined.c[k] for k in keys],
                literal(k).label("measure"),
                combined.c[v].label("v"),
                func.sum(combined.c.c).label("c"),
            ).group_by(*[combined.c[k] for k in keys], combined.c[v])
            for k, v in enumerate(values)
        ]
    ).subquery()
    part = [*[counted.c[k] for k in keys], counted.c.measure]
    ranked = select(
        *part,
        counted.c.v,
        func.sum(counted.c.c).over(partition_by=part, order_by=counted.c.v).label("upto"),
        # An integer, so that (n + 1) // 2 divides as integers (PostgreSQL sums to numeric).
        cast(func.sum(counted.c.c).over(partition_by=part), BigInteger).label("n"),
    ).subquery()
    n, upto = ranked.c.n, ranked.c.upto
    return select(
        *[ranked.c[k] for k in keys],
        ranked.c.measure,
        func.max(n),
        func.min(case((upto >= (n + 1) // 2, ranked.c.v))),
        func.min(case((upto >= (n * 9 + 9) // 10, ranked.c.v))),
        func.max(ranked.c.v),
    ).group_by(*[ranked.c[k] for k in keys], ranked.c.measure)


def counts(scope: Scope, dimension: str, codes: dict[int, str]) -> Table:
    rows: list[tuple[Any, ...]] = []
    for direction in DIRECTIONS:
        r = scope.requests(direction)
        started = scope.started(direction, r)
        opened = func.sum(case((scope.in_period(started), 1), else_=0))
        closed = func.sum(case((scope.in_period(r.closed_at), 1), else_=0))
        still_open = func.sum(
            case(
                (or_(r.closed_at.is_(None), r.closed_at >= scope.end), 1),
                else_=0,
            )
        )
        if dimension == "offence_category":
            # Counted per distinct list of categories first (a few lists however many
            # requests), then each list's elements: unnesting every request's list cost
            # 0.5 s of CPU at a million requests on PostgreSQL.
            lists = (
                select(
                    r.offence_categories.label("categories"),
                    opened.label("opened"),
                    closed.label("closed"),
                    still_open.label("still_open"),
                )
                .where(started < scope.end)
                .group_by(r.offence_categories)
                .subquery("lists")
            )
            query, group = scope.each_element(select(lists), lists.c.categories)
            stmt = query.with_only_columns(
                group,
                func.sum(lists.c.opened),
                func.sum(lists.c.closed),
                func.sum(lists.c.still_open),
                maintain_column_froms=True,
            ).group_by(group)
        else:
            query, group = scope.grouped(select(r), dimension, direction, r)
            stmt = (
                query.with_only_columns(
                    group, opened, closed, still_open, maintain_column_froms=True
                )
                .where(started < scope.end)
                .group_by(group)
            )
        found = [
            (direction, _label(g, codes, dimension), int(o or 0), int(c or 0), int(s or 0))
            for g, o, c, s in scope.session.execute(stmt)
        ]
        rows += sorted(r for r in found if r[2] or r[3] or r[4])
    return Table("counts", ("direction", "group", "opened", "closed", "open_at_end"), rows)


# The columns of a stage run the turnaround groups by, in the order of ix_stage_run_histogram.
_HISTOGRAM = (
    StageRun.direction,
    StageRun.stage,
    StageRun.days,
    StageRun.business_days,
    StageRun.counterpart_id,
    StageRun.kind,
    StageRun.legal_basis,
    StageRun.urgency,
    StageRun.outcome,
    StageRun.offence_categories,
)


def _runs_by_year(scope: Scope) -> Any:
    """The authority's runs ended in the period, counted (column ``n``) per distinct
    combination of :data:`_HISTOGRAM`: one branch per UTC year the period touches, each one
    range of ``ix_stage_run_histogram`` (authority and year) read in the grouping's order,
    ``ended_at`` filtered in the scan."""
    first = scope.start.astimezone(UTC).year
    last = (scope.end - timedelta(microseconds=1)).astimezone(UTC).year
    branches = [
        select(*_HISTOGRAM, func.count().label("n"))
        .where(
            StageRun.authority_id == scope.authority.id,
            StageRun.ended_year == year,
            scope.in_period(StageRun.ended_at),
        )
        .group_by(*_HISTOGRAM)
        for year in range(first, last + 1)
    ]
    return (branches[0] if len(branches) == 1 else union_all(*branches)).subquery("by_year")


def turnaround(scope: Scope, dimension: str, codes: dict[int, str]) -> Table:
    """Stages that ended in the period, from the authority's stage runs (one range of
    ``ix_stage_run_report``, both directions in one pass): their durations were counted when
    each was written (:mod:`mla.statistics.runs`)."""
    # Offence categories: counted per distinct list, unnested after (see _percentiles).
    listed = dimension == "offence_category"
    run: Any = StageRun
    where = [StageRun.authority_id == scope.authority.id, scope.in_period(StageRun.ended_at)]
    weight = None
    if scope.dialect == "sqlite":
        # SQLite sorts what it groups (no hash aggregation): the runs of each year the period
        # touches are counted per distinct combination as ix_stage_run_histogram gives them
        # in that order (no sort of the period's runs), and those few rows then grouped.
        by_year = _runs_by_year(scope)
        run, weight, where = aliased(StageRun, by_year, name="runs"), "n", []
    query, group = (
        (select(run), run.offence_categories)
        if listed
        else scope.grouped_runs(select(run), dimension, run)
    )
    runs = (
        query.with_only_columns(
            run.direction.label("direction"),
            run.stage.label("stage"),
            group.label("grp"),
            run.days.label("days"),
            run.business_days.label("bdays"),
            *([] if weight is None else [by_year.c[weight]]),
            maintain_column_froms=True,
        )
        .where(*where)
        .subquery()
    )
    stmt = _percentiles(
        runs,
        ["direction", "stage", "grp"],
        ["days", "bdays"],
        each=scope.each_element if listed else None,
        weight=weight,
    )
    found: dict[tuple[Any, ...], list[Any]] = {}
    for direction, stage, g, measure, n, p50, p90, _max in scope.session.execute(stmt):
        row = found.setdefault((direction, stage, g), [int(n), None, None, None, None])
        row[1 + 2 * measure : 3 + 2 * measure] = [p50, p90]
    order = {s: i for i, s in enumerate(STAGE_NAMES)}
    rows = sorted(
        (
            (
                direction,
                _label(g, codes, dimension),
                stage,
                n,
                _round(m),
                _round(p),
                int(bm),
                int(bp),
            )
            for (direction, stage, g), (n, m, p, bm, bp) in found.items()
        ),
        key=lambda r: (DIRECTIONS.index(r[0]), r[1], order[r[2]]),
    )
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


def compliance(scope: Scope) -> Table:
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
        name: (p50, p90, most)
        for name, _k, _n, p50, p90, most in scope.session.execute(
            _percentiles(late, ["name"], ["late"])
        )
    }
    rows = [
        (
            name,
            int(met or 0),
            int(missed or 0),
            *[_round(v) for v in lateness.get(name, (None, None, None))],
        )
        for name, met, missed in sorted(counts)
    ]
    return Table(
        "compliance",
        ("deadline", "met", "missed", "late_median_days", "late_p90_days", "late_max_days"),
        rows,
    )


def outcomes(scope: Scope) -> Table:
    """Closed requests by final state (executed, partially executed, refused, returned,
    withdrawn, lapsed: the workflow's final states), and by each ground given on the
    transition into that state (a refusal's ``grounds`` input): a request refused on two
    grounds counts once under each, so the ground rows need not add up to the refusals.
    Read from the authority's whole-request stage runs ended in the period (one each per
    request and direction, carrying the grounds), not from the history.
    Asset amounts per currency (issue 15's register) would be a table beside this one."""
    closed = (
        StageRun.authority_id == scope.authority.id,
        scope.in_period(StageRun.ended_at),
        StageRun.stage == WHOLE,
    )
    found: list[tuple[Any, ...]] = [
        (direction, outcome, "", int(n))
        for direction, outcome, n in scope.session.execute(
            select(StageRun.direction, StageRun.outcome, func.count())
            .where(*closed)
            .group_by(StageRun.direction, StageRun.outcome)
        )
    ]
    query, ground = scope.each_element(select(StageRun), StageRun.grounds)
    stmt = (
        query.with_only_columns(
            StageRun.direction, StageRun.outcome, ground, func.count(), maintain_column_froms=True
        )
        .where(*closed)
        .group_by(StageRun.direction, StageRun.outcome, ground)
    )
    found += [(d, o, str(g), int(n)) for d, o, g, n in scope.session.execute(stmt)]
    rows = sorted(found, key=lambda r: (DIRECTIONS.index(r[0]), r[1:]))
    return Table("outcomes", ("direction", "outcome", "ground", "requests"), rows)
