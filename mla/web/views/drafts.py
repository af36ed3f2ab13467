"""Editing a request the requesting authority is still preparing (before transmission)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from mla.app_services import request_service
from mla.db import get_session, utcnow
from mla.errors import Invalid
from mla.requests.models import Request
from mla.requests.queries import RequestQueries
from mla.requests.service import Actor
from mla.web import boundary, forms
from mla.web.blueprint import bp
from mla.web.boundary import login_required
from mla.web.i18n import localize
from mla.web.views.requests import expected_version
from mla.workflow.model import Workflow


@bp.route("/requests/<reference>/edit", methods=["GET", "POST"])
@login_required(back="web.request_page")
def edit_request(actor: Actor, reference: str) -> ResponseReturnValue:
    svc = request_service()
    # NotFound for another authority's: the 404 page. A POST changes it: read it locked.
    req = svc.get(actor, reference, for_change=request.method == "POST")
    page = url_for("web.request_page", reference=req.reference)
    reason = svc.editable_reason(req, actor)
    if reason is not None:
        flash(_("Not done: %(reason)s", reason=localize(reason)), "error")
        return redirect(page, 303)
    wf = svc.engine(req).workflow
    header: dict[str, Any] = {
        "requested_authority": req.requested_authority.code,
        "legal_basis": req.legal_basis,
        "urgency": req.urgency.value,
        "needed_by": req.needed_by,
        "needed_by_reason": req.needed_by_reason,
        "their_reference": req.their_reference,
        "confidential": req.confidential,
        "offence_categories": list(req.offence_categories or []),
    }
    if request.method == "GET":
        return _edit_page(actor, req, wf, dict(req.fields), header, {})
    changes, shape_errors = forms.draft_header(request.form)
    shown = forms.draft_fields(wf)
    values, more = forms.field_values(wf, request.form, shown)
    header.update(changes)
    pending = shape_errors + more
    boundary.form(
        lambda errors, _exc: _edit_page(actor, req, wf, values, header, errors), pending=pending
    )
    # Every field of the form: one left blank is cleared, not kept (those it does not show
    # are left as they are).
    fields = {f.name: values.get(f.name) for f in shown}
    event = svc.update(req, actor, fields=fields, expected_version=expected_version(), **changes)
    if pending:  # the service found nothing more: the form's own errors, all at once
        raise Invalid(pending)
    if event is None:
        flash(_("Nothing was changed."), "info")
    else:
        flash(_("Request %(ref)s saved.", ref=req.reference), "success")
    return redirect(page, 303)


def _edit_page(
    actor: Actor,
    req: Request,
    wf: Workflow,
    values: dict[str, Any],
    header: dict[str, Any],
    errors: dict[str, list[str]],
) -> ResponseReturnValue:
    return render_template(
        "requests/new.html",
        req=req,
        wf=wf,
        values=values,
        header=header,
        errors=errors,
        message=_("The request was not saved: correct the fields marked below.")
        if errors
        else None,
        counterparts=RequestQueries(get_session(), utcnow()).counterparts(actor),
        person_rows=forms.person_rows,
        shown=forms.draft_fields(wf),
    )
