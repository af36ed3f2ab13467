"""The request list, the new-request form and the request page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from mla.app_services import request_service
from mla.assets import service as assets
from mla.assets.moves import KIND
from mla.audit.models import EventKind
from mla.authorities.models import Authority
from mla.db import get_session, utcnow
from mla.errors import N_, FieldError, Incomplete, Invalid, MLAError
from mla.requests.header import CHANNELS
from mla.requests.models import Request
from mla.requests.queries import SORTS, Page, RequestFilter, RequestQueries
from mla.requests.service import Actor
from mla.statistics import estimates
from mla.web import boundary, forms
from mla.web.blueprint import bp
from mla.web.boundary import login_required
from mla.web.i18n import lang
from mla.web.views import documents, evidence, history
from mla.web.views.common import channel_label, party_label, timeline, workflow_labels
from mla.web.views.path import request_path
from mla.workflow.diagram import mermaid
from mla.workflow.engine import Availability
from mla.workflow.model import PARTIES, Workflow, label
from mla.workflow.values import input_choices

PAGE_SIZE = 50
PAGE_SIZES = (25, 50, 100, 200)
# The list counts this far and no further ("1,000+"): counting every match would read the
# whole index range of a filter that matches a million rows.
COUNT_UP_TO = 1000
# What the list's URL may carry besides the filter: where the page starts, and its size.
PAGING = ("cursor", "dir", "page", "per_page")


def list_filter(args: Mapping[str, str]) -> RequestFilter:
    """The list's filter from its URL (the list page's, the CSV export's)."""
    return RequestFilter(
        kind=args.get("kind") or None,
        state=args.get("state") or None,
        holder=args.get("holder") or None,
        counterpart=args.get("counterpart") or None,
        urgency=args.get("urgency") or None,
        overdue=args.get("overdue") == "1",
        mine=args.get("mine") == "1",
        q=args.get("q") or None,
        sort=args.get("sort") or "-updated",
    )


def _page_size(args: Mapping[str, str]) -> int:
    try:
        asked = int(args.get("per_page", ""))
    except ValueError:
        return PAGE_SIZE
    return asked if asked in PAGE_SIZES else PAGE_SIZE


@bp.get("/requests")
@login_required
def request_list(actor: Actor) -> ResponseReturnValue:
    args = request.args
    flt = list_filter(args)
    size = _page_size(args)
    cursor = args.get("cursor") or None
    number = args.get("page", type=int) or 1
    q = RequestQueries(get_session(), utcnow())

    def page(found: Page | None, errors: dict[str, list[str]]) -> ResponseReturnValue:
        # The rows the actor may assign, by the service's rule: the form shows when any is.
        assignable = request_service().assignable(actor, found.rows) if found else set()
        return render_template(
            "requests/list.html",
            flt=flt,
            page=found,
            errors=errors,
            sorts=list(SORTS),
            sizes=PAGE_SIZES,
            size=size,
            number=number,
            first=cursor is None,
            previous=q.cursor_at(found.rows[0], flt.sort)
            if found and found.rows and cursor
            else None,
            counterparts=q.counterparts(actor),
            colleagues=colleagues if assignable else [],
            can_assign=bool(assignable),
            assignable=assignable,
            wf=workflow_labels(),
            args={k: v for k, v in args.items() if k not in PAGING},
        )

    # Read once and held while the page renders: the rows' assignees are then found in the
    # session (its identity map holds them weakly), not asked for one by one.
    colleagues = q.colleagues(actor)
    boundary.form(lambda errors, _exc: page(None, errors))
    found = None
    if cursor and args.get("dir") == "prev":
        found = q.list_before(actor, flt, cursor, size, count_up_to=COUNT_UP_TO)
        if found is None:  # back at the start: the first page, read as such
            cursor = None
    if found is None:
        found = q.list(actor, flt, cursor=cursor, limit=size, count_up_to=COUNT_UP_TO)
    # The page's number is only told, never used to read: keyset pages have no offset.
    number = max(number, 2) if cursor else 1
    return page(found, {})


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
    values, more = forms.field_values(wf, request.form, forms.draft_fields(wf))
    # The form posts to its own URL: after an error, reloading posts it again and going to
    # the address shows it anew, never a 405.
    pending = shape_errors + more
    boundary.form(
        lambda errors, exc: _new_request_page(actor, wf, values, header, errors, exc),
        pending=pending,
    )
    svc = request_service()
    if request.form.get("action") == "submit":
        created = svc.create_and_submit(actor, kind=wf.name, fields=values, **header)
        message = _("Request %(ref)s saved and submitted.", ref=created.reference)
    else:
        created = svc.create(actor, kind=wf.name, fields=values, **header)
        message = _("Request %(ref)s saved as a draft.", ref=created.reference)
    if pending:  # the service found nothing more: the form's own errors, all at once
        raise Invalid(pending)
    flash(message, "success")
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
        shown=forms.draft_fields(wf),
    )


@dataclass(frozen=True)
class Outcome:
    """What taking an irreversible step does, for its confirmation: the state it leads to
    and the authority that will hold the request (None: one the step names, or ours)."""

    state: str
    holder: Authority | None
    moves: bool


def _outcomes(wf: Workflow, req: Request, available: list[Availability]) -> dict[str, Outcome]:
    out: dict[str, Outcome] = {}
    for a in available:
        t = a.transition
        if not wf.is_irreversible(t, req.state):
            continue
        dest = wf.states[t.target(req.state)]
        holder = req.authority_of(dest.owner)
        moves = holder is None or holder.id != req.holder_authority_id
        out[a.event] = Outcome(label(dest.labels, lang()), holder, moves)
    return out


def render_request(
    actor: Actor,
    reference: str,
    *,
    action_errors: dict[str, dict[str, list[str]]] | None = None,
    action_values: dict[str, dict[str, Any]] | None = None,
    open_event: str | None = None,
) -> ResponseReturnValue:
    """The request page; a failed action's form is shown open with its errors (as is
    ``open_event``'s)."""
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
    named = history.authority_codes(
        wf, [e.data or {} for e in events if e.kind == EventKind.TRANSITION]
    )
    authority_names = {a.code: a.name for a in q.authorities_by_code(named)}
    needs_authority = any(i.type == "authority" for a in available for i in a.transition.inputs)
    can_assign = svc.may_assign(req, actor)
    parties = svc.parties(req, actor)
    # Steps of an authority not on mla that the actor records for it: party → that authority.
    behalf = {
        a.event: req.authority_of(a.transition.by)
        for a in available
        if parties.get(a.transition.by) is not None
    }
    return render_template(
        "requests/detail.html",
        req=req,
        wf=wf,
        wfl=wfl,
        now=now,
        path=request_path(wf, req, events),
        behalf=behalf,
        channels=[(c, channel_label(c)) for c in CHANNELS],
        outcomes=_outcomes(wf, req, available),
        open_event=open_event,
        ours=req.requesting_authority_id == actor.authority.id,
        available=[a for a in available if a.allowed],
        blocked=[a for a in available if not a.allowed],
        choices=lambda i: input_choices(i, wf, req.legal_basis),
        deadlines=q.deadlines(req),
        timeline=timeline(req, events, users, authorities, wfl, authority_names),
        executing=q.executing_authorities(req) if needs_authority else [],
        colleagues=q.colleagues(actor) if can_assign else [],
        can_assign=can_assign,
        editable=svc.editable_reason(req, actor) is None,
        diagram=mermaid(
            wf,
            current=req.state,
            lang=lang(),
            people=True,
            parties={p: party_label(p) for p in PARTIES},
        ),
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
        raise Invalid(FieldError("version_id", N_("is missing: reload the page"))) from None


@bp.get("/requests/<reference>/events/<event>")
@login_required
def event_form(actor: Actor, reference: str, event: str) -> ResponseReturnValue:
    """The address a step's form posts to, opened (reloaded after an error, bookmarked):
    the request page with that step's form open, not a 405."""
    return render_request(actor, reference, open_event=event)


@bp.post("/requests/<reference>/events/<event>")
@login_required(back="web.request_page")
def fire_event(actor: Actor, reference: str, event: str) -> ResponseReturnValue:
    svc = request_service()
    req = svc.get(actor, reference, for_change=True)
    # An event no longer open from the current state still goes to the service, which
    # reports the change that overtook the form (who and when) before anything else.
    t = svc.engine(req).transition(req.state, event)
    inputs, shape_errors = forms.input_values(t.inputs if t else (), request.form)
    arrival, more = forms.arrival(request.form)
    pending = shape_errors + more
    comment = (request.form.get("comment") or "").strip() or None
    boundary.form(
        lambda errors, _exc: render_request(
            actor,
            reference,
            action_errors={event: {k.removeprefix("inputs."): v for k, v in errors.items()}},
            action_values={event: {**inputs, **arrival, "comment": comment}},
        ),
        pending=pending,
    )
    svc.fire(
        req, event, actor, inputs, comment=comment, expected_version=expected_version(), **arrival
    )
    if pending:  # the service found nothing more: the form's own errors, all at once
        raise Invalid(pending)
    flash(_("Done: %(action)s.", action=workflow_labels().event(req, event)), "success")
    return redirect(url_for("web.request_page", reference=req.reference), 303)
