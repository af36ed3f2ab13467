"""The request list, the new-request form and the request page."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from mla.app_services import request_service
from mla.assets import service as assets
from mla.assets.moves import KIND
from mla.db import get_session, utcnow
from mla.errors import FieldError, Incomplete, Invalid, MLAError
from mla.requests.models import Request
from mla.requests.queries import SORTS, Page, RequestFilter, RequestQueries
from mla.requests.service import Actor
from mla.statistics import estimates
from mla.web import boundary, forms
from mla.web.blueprint import bp
from mla.web.boundary import login_required
from mla.web.i18n import lang
from mla.web.views import documents, evidence
from mla.web.views.common import timeline, workflow_labels
from mla.workflow.diagram import mermaid
from mla.workflow.model import Workflow
from mla.workflow.values import input_choices

PAGE_SIZE = 50


@bp.get("/requests")
@login_required
def request_list(actor: Actor) -> ResponseReturnValue:
    args = request.args
    flt = RequestFilter(
        kind=args.get("kind") or None,
        state=args.get("state") or None,
        holder=args.get("holder") or None,
        counterpart=args.get("counterpart") or None,
        urgency=args.get("urgency") or None,
        overdue=args.get("overdue") == "1",
        q=args.get("q") or None,
        sort=args.get("sort") or "-updated",
        mine=args.get("mine") == "1",
    )
    q = RequestQueries(get_session(), utcnow())

    def page(found: Page | None, errors: dict[str, list[str]]) -> ResponseReturnValue:
        return render_template(
            "requests/list.html",
            flt=flt,
            page=found,
            errors=errors,
            sorts=list(SORTS),
            counterparts=q.counterparts(actor),
            wf=workflow_labels(),
            args={k: v for k, v in args.items() if k != "cursor"},
        )

    boundary.form(lambda errors, _exc: page(None, errors))
    return page(q.list(actor, flt, cursor=args.get("cursor") or None, limit=PAGE_SIZE), {})


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
def new_request(actor: Actor) -> ResponseReturnValue:
    wfs = workflow_labels()
    kinds = wfs.kinds()
    kind = request.args.get("kind") or (kinds[0].name if len(kinds) == 1 else None)
    if kind is None:
        return render_template("requests/choose_kind.html", kinds=kinds)
    wf = next((w for w in kinds if w.name == kind), None)
    if wf is None:
        abort(404)
    if request.method == "GET":
        return _new_request_page(actor, wf, {}, {"urgency": "normal"}, {})
    header, shape_errors = forms.request_header(request.form)
    values, more = forms.field_values(wf, request.form)
    boundary.form(lambda errors, exc: _new_request_page(actor, wf, values, header, errors, exc))
    if shape_errors + more:
        raise Invalid(shape_errors + more)
    svc = request_service()
    if request.form.get("action") == "submit":
        created = svc.create_and_submit(actor, kind=wf.name, fields=values, **header)
        flash(_("Request %(ref)s saved and submitted.", ref=created.reference), "success")
    else:
        created = svc.create(actor, kind=wf.name, fields=values, **header)
        flash(_("Request %(ref)s saved as a draft.", ref=created.reference), "success")
    return redirect(url_for("web.request_page", reference=created.reference), 303)


def _new_request_page(
    actor: Actor,
    wf: Workflow,
    values: dict[str, Any],
    header: dict[str, Any],
    errors: dict[str, list[str]],
    exc: MLAError | None = None,
) -> ResponseReturnValue:
    message = None
    if isinstance(exc, Incomplete):
        message = _(
            "The request is not complete enough to submit. Complete the fields marked "
            "below, or save it as a draft."
        )
    elif errors:
        message = _("The request was not saved: correct the fields marked below.")
    return render_template(
        "requests/new.html",
        wf=wf,
        values=values,
        header=header,
        errors=errors,
        message=message,
        counterparts=RequestQueries(get_session(), utcnow()).counterparts(actor),
        person_rows=forms.person_rows,
    )


def render_request(
    actor: Actor,
    reference: str,
    *,
    action_errors: dict[str, dict[str, list[str]]] | None = None,
    action_values: dict[str, dict[str, Any]] | None = None,
) -> ResponseReturnValue:
    """The request page; a failed action's form is shown open with its errors."""
    svc = request_service()
    req: Request = svc.get(actor, reference)
    now = utcnow()
    q = RequestQueries(get_session(), now)
    wf = svc.engine(req).workflow
    available = svc.available_events(req, actor)
    events = svc.history(req, actor)
    users = q.users_by_id([e.actor_user_id for e in events if e.actor_user_id])
    authorities = q.authorities_by_id(
        [a for e in events for a in (e.actor_authority_id, e.on_behalf_of_id) if a]
    )
    wfl = workflow_labels()
    needs_authority = any(i.type == "authority" for a in available for i in a.transition.inputs)
    can_assign = svc.may_assign(req, actor)
    return render_template(
        "requests/detail.html",
        req=req,
        wf=wf,
        wfl=wfl,
        now=now,
        available=[a for a in available if a.allowed],
        blocked=[a for a in available if not a.allowed],
        choices=lambda i: input_choices(i, wf, req.legal_basis),
        deadlines=q.deadlines(req),
        timeline=timeline(req, events, users, authorities, wfl),
        executing=q.executing_authorities(req) if needs_authority else [],
        colleagues=q.colleagues(actor) if can_assign else [],
        can_assign=can_assign,
        editable=svc.editable_reason(req, actor) is None,
        diagram=mermaid(wf, current=req.state, lang=lang()),
        evidence=evidence.listing(req, actor),
        documents=documents.panel(req, actor),
        action_errors=action_errors or {},
        action_values=action_values or {},
        basis=wf.legal_bases.get(req.legal_basis),
        estimate=estimates.estimate(get_session(), req),
        register=assets.register(svc, actor, reference) if req.kind == KIND else None,
        links=assets.links(svc, actor, reference),
    )


@bp.get("/requests/<reference>")
@login_required
def request_page(actor: Actor, reference: str) -> ResponseReturnValue:
    return render_request(actor, reference)


def expected_version() -> int:
    try:
        return int(request.form.get("version_id", ""))
    except ValueError:
        raise Invalid(FieldError("version_id", "is missing: reload the page")) from None


@bp.post("/requests/<reference>/events/<event>")
@login_required(back="web.request_page")
def fire_event(actor: Actor, reference: str, event: str) -> ResponseReturnValue:
    svc = request_service()
    req = svc.get(actor, reference)
    # An event no longer open from the current state still goes to the service, which
    # reports the change that overtook the form (who and when) before anything else.
    t = svc.engine(req).transition(req.state, event)
    inputs, shape_errors = forms.input_values(t.inputs if t else (), request.form)
    boundary.form(
        lambda errors, _exc: render_request(
            actor,
            reference,
            action_errors={event: {k.removeprefix("inputs."): v for k, v in errors.items()}},
            action_values={event: inputs},
        )
    )
    if shape_errors:
        raise Invalid(shape_errors)
    svc.fire(
        req,
        event,
        actor,
        inputs,
        comment=(request.form.get("comment") or "").strip() or None,
        expected_version=expected_version(),
    )
    flash(_("Done: %(action)s.", action=workflow_labels().event(req, event)), "success")
    return redirect(url_for("web.request_page", reference=req.reference), 303)
