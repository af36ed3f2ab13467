"""Statistics for one authority over a period (Plan of Action II.1h): counts, turnaround per
stage, deadline compliance, the trend of open requests and the ageing of the backlog.

Every figure is an aggregate computed by the database over covering indexes (the
authority's requests by party, their deadlines, and the statistics' own stage runs: see
:meth:`Scope.requests` and :mod:`.runs`); Python only shapes the few aggregated rows.
Percentiles are nearest-rank (the value at rank ceil(p * n) in ascending order), found from
running sums over the count of each distinct value, so SQLite and PostgreSQL give the same
figures. Business days were counted when each stage run was written, on the authority's
calendar (weekend, public holidays, closures) between the local dates of its start and end.

Scope: outgoing requests are those the authority made (requesting); incoming those
transmitted to it as requested or executing authority. Nothing here names a request,
a person or a fact: the report holds counts and durations only.

Modules: :mod:`.report` (periods, dimensions, tables), :mod:`.scope` (the SQL every query
shares), :mod:`.tables` (counts, turnaround, compliance, outcomes), :mod:`.backlog` (trend,
ageing), :mod:`.runs` and :mod:`.models` (the stage runs, written as requests move); this
one runs them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mla.authorities.models import Authority
from mla.statistics import backlog, tables
from mla.statistics.report import (
    AGE_BANDS,
    DIMENSIONS,
    DIRECTIONS,
    STAGE_NAMES,
    Period,
    Report,
    Table,
    check_dimension,
    parse_period,
)
from mla.statistics.runs import STAGES
from mla.statistics.scope import Scope

__all__ = [
    "AGE_BANDS",
    "DIMENSIONS",
    "DIRECTIONS",
    "STAGES",
    "STAGE_NAMES",
    "Period",
    "Report",
    "Table",
    "check_dimension",
    "parse_period",
    "statistics",
]


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
    scope = Scope(session, authority, period, now)
    codes: dict[int, str] = {i: c for i, c in session.execute(select(Authority.id, Authority.code))}
    found = {
        "counts": tables.counts(scope, dimension, codes),
        "turnaround": tables.turnaround(scope, dimension, codes),
        "compliance": tables.compliance(scope),
        "outcomes": tables.outcomes(scope),
        "trend": backlog.trend(scope),
        "ageing": backlog.ageing(scope, codes),
    }
    return Report(authority.code, period, dimension, now, found)
