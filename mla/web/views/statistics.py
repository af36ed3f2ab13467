"""Supervisors and admins: the authority's statistics, with charts and CSV exports."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from mla.authorities.models import Role
from mla.db import get_session, utcnow
from mla.errors import Invalid
from mla.requests.service import Actor
from mla.statistics import charts, export, service
from mla.web.blueprint import bp
from mla.web.boundary import field_messages, login_required


def _report(actor: Actor) -> service.Report:
    period = service.parse_period(request.args.get("period") or str(utcnow().year))
    dimension = service.check_dimension(request.args.get("dimension"))
    return service.statistics(get_session(), actor.authority, period, dimension, utcnow())


@bp.get("/statistics")
@login_required(role=Role.SUPERVISOR)
def statistics(actor: Actor) -> ResponseReturnValue:
    try:
        report = _report(actor)
    except Invalid as exc:
        return render_template(
            "statistics.html", report=None, errors=field_messages(exc), dims=service.DIMENSIONS
        ), 422
    t = report.tables
    trend = charts.bars(
        _("Open requests at each month's end"),
        [(r[0], r[1:]) for r in t["trend"].rows],
        [_("incoming"), _("outgoing")],
    )
    turnaround = charts.bars(
        _("Whole request: median and 90th percentile, calendar days"),
        [(f"{r[1]} ({_(r[0])})", (r[4], r[5])) for r in t["turnaround"].rows if r[2] == "whole"],
        [_("median"), _("90th percentile")],
    )
    compliance = charts.bars(
        _("Deadlines met and missed"),
        [(r[0], (r[1], r[2])) for r in t["compliance"].rows],
        [_("met"), _("missed")],
    )
    ageing = charts.bars(
        _("Open requests by age in days"),
        [(r[0], r[1:-1]) for r in t["ageing"].rows],
        [b[0] for b in service.AGE_BANDS],
    )
    return render_template(
        "statistics.html",
        report=report,
        errors={},
        dims=service.DIMENSIONS,
        charts={
            "trend": trend,
            "turnaround": turnaround,
            "compliance": compliance,
            "ageing": ageing,
        },
    )


@bp.get("/statistics/<name>.csv")
@login_required(role=Role.SUPERVISOR)
def statistics_csv(actor: Actor, name: str) -> ResponseReturnValue:
    report = _report(actor)
    if name not in report.tables:
        abort(404)
    return Response(
        export.table_csv(report.tables[name]),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{report.authority}-'
            f'{report.period.label}-{name}.csv"'
        },
    )
