"""The tables of activity in the period: counts, turnaround per stage, deadline compliance
and outcomes. Each is a few aggregate queries; percentiles are nearest-rank (PostgreSQL's
``percentile_disc``, window functions on SQLite), so both give the same figures."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select, true

from mla.audit.models import Event, EventKind
from mla.deadlines.models import Deadline
from mla.deadlines.models import Outcome as DeadlineOutcome
from mla.statistics.models import StageRun
from mla.statistics.report import DIRECTIONS, STAGE_NAMES, Table
from mla.statistics.scope import Scope
from mla.statistics.sql import days_between


def _label(value: Any, codes: dict[int, str], dimension: str) -> str:
    if dimension == "counterpart":
        return codes.get(value, str(value))
    return str(value)


def _round(value: float | int | None) -> float | int | None:
    if value is None or isinstance(value, int):
        return value
    return round(float(value), 1)


def _percentiles(
    dialect: str, inner: Any, keys: list[str], value: str, business: str | None
) -> Select[Any]:
    """Per group of ``keys``: count, P50 and P90 of ``value`` (and of ``business``), by
    nearest rank (the value at rank ceil(p * n)). PostgreSQL: ``percentile_disc``, which is
    that definition (the two of one column share one sort); SQLite, which has no such
    aggregate: window functions numbering the rows."""
    groups = [inner.c[k] for k in keys]
    if dialect == "postgresql":
        cols = [*groups, func.count()]
        for column in [value] if business is None else [value, business]:
            # ceil(0.9 * n) in floating point is the exact rank for every n below 2**21,
            # far more runs than one group has in a period.
            cols += [func.percentile_disc(p).within_group(inner.c[column]) for p in (0.5, 0.9)]
        return select(*cols).group_by(*groups)
    ranked_cols = [
        *groups,
        inner.c[value],
        func.row_number().over(partition_by=groups, order_by=inner.c[value]).label("rn"),
        func.count().over(partition_by=groups).label("n"),
    ]
    if business is not None:
        ranked_cols += [
            inner.c[business],
            func.row_number().over(partition_by=groups, order_by=inner.c[business]).label("brn"),
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


def counts(scope: Scope, dimension: str, codes: dict[int, str]) -> Table:
    rows: list[tuple[Any, ...]] = []
    for direction in DIRECTIONS:
        r = scope.requests(direction)
        started = scope.started(direction, r)
        query, group = scope.grouped(select(r), dimension, direction, r)
        opened = func.sum(case((scope.in_period(started), 1), else_=0))
        closed = func.sum(case((scope.in_period(r.closed_at), 1), else_=0))
        still_open = func.sum(
            case(
                (or_(r.closed_at.is_(None), r.closed_at >= scope.end), 1),
                else_=0,
            )
        )
        stmt = (
            query.with_only_columns(group, opened, closed, still_open, maintain_column_froms=True)
            .where(started < scope.end)
            .group_by(group)
        )
        found = [
            (direction, _label(g, codes, dimension), int(o or 0), int(c or 0), int(s or 0))
            for g, o, c, s in scope.session.execute(stmt)
        ]
        rows += sorted(r for r in found if r[2] or r[3] or r[4])
    return Table("counts", ("direction", "group", "opened", "closed", "open_at_end"), rows)


def turnaround(scope: Scope, dimension: str, codes: dict[int, str]) -> Table:
    """Stages that ended in the period, from the authority's stage runs (one range of
    ``ix_stage_run_report``, both directions in one pass): their durations were counted when
    each was written (:mod:`mla.statistics.runs`)."""
    query, group = scope.grouped_runs(select(StageRun), dimension)
    runs = (
        query.with_only_columns(
            StageRun.direction.label("direction"),
            StageRun.stage.label("stage"),
            group.label("grp"),
            StageRun.days.label("days"),
            StageRun.business_days.label("bdays"),
            maintain_column_froms=True,
        )
        .where(StageRun.authority_id == scope.authority.id, scope.in_period(StageRun.ended_at))
        .subquery()
    )
    stmt = _percentiles(scope.dialect, runs, ["direction", "stage", "grp"], "days", "bdays")
    order = {s: i for i, s in enumerate(STAGE_NAMES)}
    rows = sorted(
        (
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
            for direction, stage, g, n, m, p, bm, bp in scope.session.execute(stmt)
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
        name: (m, p)
        for name, _n, m, p in scope.session.execute(
            _percentiles(scope.dialect, late, ["name"], "late", None)
        )
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


def outcomes(scope: Scope) -> Table:
    """Closed requests by final state (executed, partially executed, refused, returned,
    withdrawn, lapsed: the workflow's final states), and by each ground given on the
    transition into that state (a refusal's ``grounds`` input): a request refused on two
    grounds counts once under each, so the ground rows need not add up to the refusals.
    Asset amounts per currency (issue 15's register) would be a table beside this one."""
    rows: list[tuple[Any, ...]] = []
    for direction in DIRECTIONS:
        r = scope.requests(direction)
        closed = scope.in_period(r.closed_at)
        found: list[tuple[Any, ...]] = [
            (direction, outcome, "", int(n))
            for outcome, n in scope.session.execute(
                select(r.outcome, func.count()).where(closed).group_by(r.outcome)
            )
        ]
        grounds_of = Event.data["inputs"]["grounds"]
        if scope.dialect == "postgresql":
            each = func.jsonb_array_elements_text(grounds_of).table_valued("value").lateral()
        else:
            each = func.json_each(Event.data, "$.inputs.grounds").table_valued("value")
        stmt = (
            select(r.outcome, each.c.value, func.count(r.id.distinct()))
            .select_from(r)
            .join(Event, Event.request_id == r.id)
            .join(each, true())
            .where(
                closed,
                Event.kind == EventKind.TRANSITION.value,
                Event.data["to"].as_string() == r.outcome,
            )
            .group_by(r.outcome, each.c.value)
        )
        found += [(direction, o, str(g), int(n)) for o, g, n in scope.session.execute(stmt)]
        rows += sorted(found)
    return Table("outcomes", ("direction", "outcome", "ground", "requests"), rows)
