"""Recording a request received from a state not on mla (LEGAL.md "Requests from states not
on the system"): the requested central authority's clerk enters it as it arrived, by
diplomatic note, e-mail, courier, INTERPOL or post, on that state's behalf."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from mla.app_services import request_service
from mla.db import get_session, utcnow
from mla.errors import Invalid
from mla.requests.creation import CHANNELS
from mla.requests.queries import RequestQueries
from mla.requests.service import Actor
from mla.web import boundary, forms
from mla.web.blueprint import bp
from mla.web.boundary import login_required
from mla.web.views.common import channel_label, workflow_labels
from mla.workflow.model import Workflow


@bp.route("/requests/received", methods=["GET", "POST"])
@login_required
def record_received(actor: Actor) -> ResponseReturnValue:
    kinds = workflow_labels().kinds()
    kind = request.args.get("kind") or (kinds[0].name if len(kinds) == 1 else None)
    if kind is None:
        return render_template("requests/choose_kind.html", kinds=kinds)
    wf = next((w for w in kinds if w.name == kind), None)
    if wf is None:
        abort(404)
    if request.method == "GET":
        return _page(actor, wf, {}, {"urgency": "normal"}, {})
    header, shape_errors = forms.received_header(request.form, actor.authority.code)
    values, more = forms.field_values(wf, request.form, forms.draft_fields(wf))
    pending = shape_errors + more
    boundary.form(lambda errors, _exc: _page(actor, wf, values, header, errors), pending=pending)
    created = request_service().create(actor, kind=wf.name, fields=values, **header)
    if pending:  # the service found nothing more: the form's own errors, all at once
        raise Invalid(pending)
    flash(
        _(
            "Request %(ref)s recorded as received. Attach the document received in the "
            "Evidence panel below.",
            ref=created.reference,
        ),
        "success",
    )
    return redirect(url_for("web.request_page", reference=created.reference) + "#evidence", 303)


def _page(
    actor: Actor,
    wf: Workflow,
    values: dict[str, Any],
    header: dict[str, Any],
    errors: dict[str, list[str]],
) -> ResponseReturnValue:
    return render_template(
        "requests/received.html",
        wf=wf,
        values=values,
        header=header,
        errors=errors,
        message=_("The request was not recorded: correct the fields marked below.")
        if errors
        else None,
        requesters=RequestQueries(get_session(), utcnow()).external_requesters(actor),
        channels=[(c, channel_label(c)) for c in CHANNELS],
        starts=[(s, wf.states[s].labels) for s in wf.intake_states()],
        person_rows=forms.person_rows,
        shown=forms.draft_fields(wf),
    )
