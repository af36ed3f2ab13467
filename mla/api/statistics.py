"""GET /api/v1/statistics: the caller's authority's statistics, as JSON or CSV."""

from __future__ import annotations

from flask import Response
from flask import request as http_request

from mla.api import schemas as s
from mla.api.routing import actor, operation, query_args
from mla.api.views import READ, bp, json_response
from mla.db import get_session, utcnow
from mla.statistics import export, service


@operation(
    bp,
    "GET",
    "/statistics",
    summary="Statistics of the caller's authority",
    tag="statistics",
    scope=READ,
    query=s.StatisticsQuery,
    responses={200: s.StatisticsOut},
)
def get_statistics() -> Response:
    """Counts (opened, closed, open at the end of ``period``), turnaround per stage (median
    and 90th percentile, calendar and business days), deadline compliance, the monthly trend
    of open requests and the ageing of the backlog, for the caller's authority, broken down
    by ``dimension``. Counts only: no reference, name or fact. With ``Accept: text/csv``, the
    same in long form (``table,row,column,value``). 422 names a bad period or dimension."""
    query = query_args(s.StatisticsQuery)
    period = service.parse_period(query.period)
    dimension = service.check_dimension(query.dimension)
    report = service.statistics(get_session(), actor().authority, period, dimension, utcnow())
    best = http_request.accept_mimetypes.best_match(["application/json", "text/csv"])
    if best == "text/csv":
        return Response(export.report_csv(report), mimetype="text/csv")
    body = s.StatisticsOut(
        authority=report.authority,
        period=period.label,
        start=period.start,
        end=period.end,
        dimension=dimension,
        generated_at=report.generated_at,
        tables={
            name: s.StatisticsTable(columns=list(t.columns), rows=[list(r) for r in t.rows])
            for name, t in report.tables.items()
        },
    )
    return json_response(body)
