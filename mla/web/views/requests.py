"""The request list, the new-request form and the request page."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from mla.db import get_session, utcnow
from mla.errors import Conflict, FieldError, Invalid
from mla.requests import drafts
from mla.requests.models import Request
from mla.requests.queries import SORTS, RequestFilter, RequestQueries
from mla.requests.service import Actor, request_service
from mla.web import bp, forms
from mla.web.i18n import lang
from mla.web.views import evidence
from mla.web.views.auth import login_required
from mla.web.views.common import engines_view, timeline
from mla.workflow.diagram import mermaid
from mla.workflow.values import field_errors, input_choices

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
    )
    q = RequestQueries(get_session(), utcnow())
    errors: dict[str, list[str]] = {}
    try:
        page = q.list(actor, flt, cursor=args.get("cursor") or None, limit=PAGE_SIZE)
    except Invalid as exc:
        errors = forms.errors_by_field(exc)
        page = None
    return render_template(
        "requests/list.html",
        flt=flt,
        page=page,
        errors=errors,
        sorts=list(SORTS),
        counterparts=q.counterparts(actor),
        wf=engines_view(),
        args={k: v for k, v in args.items() if k != "cursor"},
    ), (422 if errors else 200)


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
def new_request(actor: Actor) -> ResponseReturnValue:
    wfs = engines_view()
    kinds = wfs.kinds()
    kind = request.args.get("kind") or (kinds[0].name if len(kinds) == 1 else None)
    if kind is None:
        return render_template("requests/choose_kind.html", kinds=kinds)
    wf = next((w for w in kinds if w.name == kind), None)
    if wf is None:
        abort(404)
    q = RequestQueries(get_session(), utcnow())
    values: dict[str, Any] = {}
    header: dict[str, Any] = {"urgency": "normal"}
    errors: dict[str, list[str]] = {}
    message = None
    if request.method == "POST":
        header, shape_errors = forms.request_header(request.form)
        values, more = forms.field_values(wf, request.form)
        shape_errors += more
        submit = request.form.get("action") == "submit"
        svc = request_service()
        db = get_session()
        try:
            if shape_errors:
                raise Invalid(shape_errors)
            created = svc.create(actor, kind=wf.name, fields=values, **header)
            event = wf.submit_event() if submit else None
            if event:
                svc.fire(created, event, actor)
            db.commit()
        except Invalid as exc:
            db.rollback()
            errors = forms.errors_by_field(exc)
            message = _("The request was not saved: correct the fields marked below.")
        except Conflict:
            # The draft is not complete enough to submit: show each missing field.
            db.rollback()
            errors = forms.errors_by_field(field_errors(wf, header["legal_basis"], values))
            message = _(
                "The request is not complete enough to submit. Complete the fields marked "
                "below, or save it as a draft."
            )
        else:
            if event:
                flash(_("Request %(ref)s saved and submitted.", ref=created.reference), "success")
            else:
                flash(_("Request %(ref)s saved as a draft.", ref=created.reference), "success")
            return redirect(url_for("web.request_page", reference=created.reference), 303)
    return render_template(
        "requests/new.html",
        wf=wf,
        values=values,
        header=header,
        errors=errors,
        message=message,
        counterparts=q.counterparts(actor),
        person_rows=forms.person_rows,
    ), (422 if errors else 200)


def render_request(
    actor: Actor,
    reference: str,
    *,
    action_errors: dict[str, dict[str, list[str]]] | None = None,
    action_values: dict[str, dict[str, Any]] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """The request page; a failed action's form is shown open with its errors."""
    svc = request_service()
    req: Request = svc.get(actor, reference)
    now = utcnow()
    q = RequestQueries(get_session(), now)
    wf = svc.engine(req).workflow
    available = svc.available_events(req, actor)
    events = svc.history(req)
    users = q.users_by_id([e.actor_user_id for e in events if e.actor_user_id])
    authorities = q.authorities_by_id(
        [a for e in events for a in (e.actor_authority_id, e.on_behalf_of_id) if a]
    )
    wfl = engines_view()
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
        editable=drafts.editable_reason(svc, req, actor) is None,
        diagram=mermaid(wf, current=req.state, lang=lang()),
        evidence=evidence.listing(req, actor),
        action_errors=action_errors or {},
        action_values=action_values or {},
        basis=wf.legal_bases.get(req.legal_basis),
    ), status


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
@login_required
def fire_event(actor: Actor, reference: str, event: str) -> ResponseReturnValue:
    svc = request_service()
    db = get_session()
    req = svc.get(actor, reference)
    # An event no longer open from the current state still goes to the service, which
    # reports the change that overtook the form (who and when) before anything else.
    t = svc.engine(req).transition(req.state, event)
    inputs, shape_errors = forms.input_values(t.inputs if t else (), request.form)
    try:
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
        db.commit()
    except Invalid as exc:
        db.rollback()
        errors = {k.removeprefix("inputs."): v for k, v in forms.errors_by_field(exc).items()}
        return render_request(
            actor,
            reference,
            action_errors={event: errors},
            action_values={event: inputs},
            status=422,
        )
    except Conflict as exc:
        db.rollback()
        flash(_("Not done: %(reason)s", reason=exc.message), "error")
        return redirect(url_for("web.request_page", reference=req.reference), 303)
    flash(_("Done: %(action)s.", action=engines_view().event(req, event)), "success")
    return redirect(url_for("web.request_page", reference=req.reference), 303)
