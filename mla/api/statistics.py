"""GET /api/v1/statistics: the caller's authority's statistics, as JSON or CSV."""

from __future__ import annotations

from datetime import date, datetime

from flask import Response
from flask import request as http_request
from pydantic import ConfigDict, Field

from mla.api import schemas as s
from mla.api.routing import actor, operation, query_args
from mla.api.views import READ, bp, json_response
from mla.db import get_session, utcnow
from mla.statistics import export, service

# The API's statistics schemas live here, beside their one operation (as the assets API's do).


class StatisticsQuery(s.In):
    model_config = ConfigDict(extra="forbid")
    period: str = Field(
        description="a year (2026), quarter (2026-Q2), month (2026-03) or range "
        "(2026-01-01..2026-06-30), on the caller's authority's calendar"
    )
    dimension: str = Field(
        default="counterpart",
        description="counterpart, kind, legal_basis, urgency, offence_category or outcome",
    )


class StatisticsTable(s.Out):
    columns: list[str]
    rows: list[list[str | int | float | None]]


class StatisticsOut(s.Out):
    authority: str
    period: str
    start: date
    end: date = Field(description="the day after the period's last")
    dimension: str
    generated_at: datetime
    tables: dict[str, StatisticsTable] = Field(
        description="counts, turnaround, compliance, outcomes, trend, ageing (see the README)"
    )


@operation(
    bp,
    "GET",
    "/statistics",
    summary="Statistics of the caller's authority",
    tag="statistics",
    scope=READ,
    query=StatisticsQuery,
    responses={200: StatisticsOut},
)
def get_statistics() -> Response:
    """Counts (opened, closed, open at the end of ``period``), turnaround per stage (median
    and 90th percentile, calendar and business days), deadline compliance, the monthly trend
    of open requests and the ageing of the backlog, for the caller's authority, broken down
    by ``dimension``. Counts only: no reference, name or fact. With ``Accept: text/csv``, the
    same in long form (``table,row,column,value``). 422 names a bad period or dimension."""
    query = query_args(StatisticsQuery)
    period = service.parse_period(query.period)
    dimension = service.check_dimension(query.dimension)
    report = service.statistics(get_session(), actor().authority, period, dimension, utcnow())
    best = http_request.accept_mimetypes.best_match(["application/json", "text/csv"])
    if best == "text/csv":
        return Response(export.report_csv(report), mimetype="text/csv")
    body = StatisticsOut(
        authority=report.authority,
        period=period.label,
        start=period.start,
        end=period.end,
        dimension=dimension,
        generated_at=report.generated_at,
        tables={
            name: StatisticsTable(columns=list(t.columns), rows=[list(r) for r in t.rows])
            for name, t in report.tables.items()
        },
    )
    return json_response(body)
