"""Supervisors: assign and reassign a request, and the authority's workload."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from mla.authorities.models import Role
from mla.db import get_session, utcnow
from mla.errors import Conflict, FieldError, Invalid
from mla.requests.queries import RequestQueries
from mla.requests.service import Actor, request_service
from mla.web import bp
from mla.web.views.auth import login_required


@bp.post("/requests/<reference>/assign")
@login_required(role=Role.SUPERVISOR)
def assign(actor: Actor, reference: str) -> ResponseReturnValue:
    svc = request_service()
    db = get_session()
    req = svc.get(actor, reference)
    raw = request.form.get("assignee", "")
    assignee = None
    if raw:
        # Only a colleague can be picked; anyone else reads as "no such user" (no leak).
        colleagues = {str(u.id): u for u in RequestQueries(db, utcnow()).colleagues(actor)}
        assignee = colleagues.get(raw)
        if assignee is None:
            raise Invalid(FieldError("assignee", "choose a user of your authority"))
    try:
        svc.assign(req, assignee, actor)
        db.commit()
    except Conflict as exc:
        db.rollback()
        flash(_("Not done: %(reason)s", reason=exc.message), "error")
        return redirect(url_for("web.request_page", reference=req.reference), 303)
    if assignee is not None:
        flash(_("Assigned to %(user)s.", user=assignee.username), "success")
    else:
        flash(_("Nobody is assigned now."), "success")
    return redirect(url_for("web.request_page", reference=req.reference), 303)


@bp.get("/workload")
@login_required(role=Role.SUPERVISOR)
def workload(actor: Actor) -> ResponseReturnValue:
    rows = RequestQueries(get_session(), utcnow()).workload(actor)
    return render_template("workload.html", rows=rows, total=sum(r.open for r in rows))
