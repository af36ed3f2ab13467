"""The tables of the backlog: open requests at each month's end (the trend) and the open
requests now by holder and age band (the ageing)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal, select

from mla.requests.models import Request
from mla.statistics.report import AGE_BANDS, DIRECTIONS, Table, add_months
from mla.statistics.scope import Scope
from mla.statistics.sql import unindexed


def month_ends(scope: Scope) -> list[tuple[str, datetime]]:
    out: list[tuple[str, datetime]] = []
    month = scope.period.start.replace(day=1)
    while month < scope.period.end:
        after = min(add_months(month, 1), scope.period.end)
        instant = scope.calendar.start_of_day(after)
        # The month under way counts up to now; later months are not there yet.
        out.append((month.strftime("%Y-%m"), min(instant, scope.now)))
        if instant > scope.now:
            break
        month = after
    return out


def trend(scope: Scope) -> Table:
    """Open at a month's end = begun before it - closed before it. One pass per direction
    counts requests by (the first month end after their start, the first after their
    closure); the running sums over those few groups give every month."""
    ends = month_ends(scope)
    rows: list[tuple[Any, ...]] = [(label,) for label, _ in ends]

    def month_of(moment: Any) -> Any:
        # The index of the first month end after ``moment``; NULL past the last one.
        return case(*[(moment < at, k) for k, (_, at) in enumerate(ends)])

    for direction in DIRECTIONS:
        r = scope.requests(direction)
        started = scope.started(direction, r)
        opened_in, closed_in = month_of(started), month_of(r.closed_at)
        begun, ended = [0] * len(ends), [0] * len(ends)
        for o, c, n in scope.session.execute(
            select(opened_in, closed_in, func.count())
            .where(started < ends[-1][1])
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


def ageing(scope: Scope, codes: dict[int, str]) -> Table:
    r = scope.requests(*DIRECTIONS)
    since = func.coalesce(r.transmitted_at, r.created_at)
    # Younger than ``upper`` days: begun after now - upper days. Instants compared with the
    # column as stored, not days computed per row.
    band = case(
        *[
            (
                since > literal(scope.now - timedelta(days=upper), type_=Request.created_at.type),
                label,
            )
            for label, _lower, upper in AGE_BANDS
            if upper is not None
        ],
        else_=AGE_BANDS[-1][0],
    )
    own = scope.authority.id
    found = scope.session.execute(
        select(holder := unindexed(r.holder_authority_id), band, func.count())
        .where(r.closed_at.is_(None))
        .group_by(holder, band)
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
