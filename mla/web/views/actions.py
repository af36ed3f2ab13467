"""Supervisors: assign and reassign a request, and the authority's workload."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from mla.app_services import request_service
from mla.authorities.models import Role
from mla.db import get_session, parse_id, utcnow
from mla.errors import N_, FieldError, Invalid
from mla.requests.queries import RequestQueries
from mla.requests.service import Actor
from mla.web.blueprint import bp
from mla.web.boundary import login_required


@bp.post("/requests/<reference>/assign")
@login_required(role=Role.SUPERVISOR, back="web.request_page")
def assign(actor: Actor, reference: str) -> ResponseReturnValue:
    svc = request_service()
    req = svc.get(actor, reference, for_change=True)
    raw = request.form.get("assignee", "")
    assignee_id = parse_id(raw)
    if raw and assignee_id is None:
        raise Invalid(FieldError("assignee", N_("must be a user id")))
    event = svc.assign(req, assignee_id, actor)
    if event.data["to"]:
        flash(_("Assigned to %(user)s.", user=event.data["to"]), "success")
    else:
        flash(_("Nobody is assigned now."), "success")
    return redirect(url_for("web.request_page", reference=req.reference), 303)


@bp.get("/workload")
@login_required(role=Role.SUPERVISOR)
def workload(actor: Actor) -> ResponseReturnValue:
    rows = RequestQueries(get_session(), utcnow()).workload(actor)
    return render_template("workload.html", rows=rows, total=sum(r.open for r in rows))
