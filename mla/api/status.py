"""A request's status as the API shows it to one of its parties, its ETag, and list cursors."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime

from mla.api import request_schemas as s
from mla.api.catalog import choices
from mla.audit.models import EventKind
from mla.authorities.models import Authority
from mla.db import parse_id
from mla.deadlines.service import DeadlineService
from mla.errors import N_, FieldError, Invalid
from mla.requests.models import Request
from mla.requests.queries import RequestQueries
from mla.requests.service import Actor, RequestService
from mla.statistics import estimates
from mla.workflow.model import Choice, label
from mla.workflow.values import input_choices


def summary(svc: RequestService, request: Request, lang: str) -> s.RequestSummary:
    state = svc.engine(request).workflow.states[request.state]
    return s.RequestSummary(**_summary_fields(request, label(state.labels, lang)))


def _summary_fields(request: Request, state_label: str) -> dict[str, object]:
    return {
        "reference": request.reference,
        "their_reference": request.their_reference,
        "kind": request.kind,
        "state": request.state,
        "state_label": state_label,
        "holder": request.holder_authority.code,
        "requesting_authority": request.requesting_authority.code,
        "requested_authority": request.requested_authority.code,
        "executing_authority": request.executing_authority_code,
        "urgency": request.urgency.value,
        "confidential": request.confidential,
        "needed_by": request.needed_by,
        "created_at": request.created_at,
        "updated_at": request.updated_at,
        "closed_at": request.closed_at,
        "outcome": request.outcome,
    }


def _executing_authorities(
    svc: RequestService, request: Request, now: datetime
) -> tuple[Choice, ...]:
    """The codes an ``authority`` input accepts: the requested authority's executing ones,
    in directory order."""
    found = RequestQueries(svc.session, now).executing_authorities(request)
    return tuple(
        Choice(a.code, {"en": a.name}) for a in sorted(found, key=lambda a: (a.country, a.code))
    )


def status(
    svc: RequestService, request: Request, actor: Actor, now: datetime, lang: str
) -> s.RequestStatus:
    """Everything the caller's party may know about where ``request`` stands.

    Requires ``request`` read through ``svc.get(actor, ...)`` (scoped to the caller)."""
    wf = svc.engine(request).workflow
    parties: dict[int, Authority] = {
        a.id: a
        for a in (
            request.requesting_authority,
            request.requested_authority,
            request.executing_authority,
        )
        if a is not None
    }
    history = []

    def code(authority_id: int | None) -> str | None:
        if authority_id is None:
            return None
        who = parties.get(authority_id) or svc.session.get(Authority, authority_id)
        return who.code if who else None

    for e in svc.history(request):
        recorded_by = code(e.actor_authority_id) if e.on_behalf_of_id else None
        if e.kind == EventKind.CREATED and "received_on" in e.data:
            # An external state's request recorded as received: its arrival is its first step.
            history.append(
                s.HistoryEntry(
                    at=e.at,
                    event="received",
                    from_=e.data["state"],
                    to=e.data["state"],
                    by=code(e.on_behalf_of_id),
                    party="requesting",
                    recorded_by=recorded_by,
                )
            )
        if e.kind != EventKind.TRANSITION:
            continue  # creation, assignment and reads are not state changes
        history.append(
            s.HistoryEntry(
                at=e.at,
                event=e.data["event"],
                from_=e.data["from"],
                to=e.data["to"],
                by=code(e.on_behalf_of_id or e.actor_authority_id),
                party=e.data["by"],
                recorded_by=recorded_by,
            )
        )
    deadlines = []
    for d in DeadlineService(svc.session).open_deadlines(request):
        try:
            name = label(wf.deadline(d.name)[1].labels, lang)
        except KeyError:
            name = d.name
        owner = parties.get(d.authority_id) or svc.session.get_one(Authority, d.authority_id)
        deadlines.append(
            s.DeadlineOut(
                name=d.name,
                label=name,
                due_at=d.due_at,
                authority=owner.code,
                status=d.status(now),
            )
        )
    events = []
    executing: tuple[Choice, ...] | None = None
    for a in svc.available_events(request, actor):
        inputs = []
        for i in a.transition.inputs:
            if i.type == "authority":
                if executing is None:
                    executing = _executing_authorities(svc, request, now)
                options: tuple[Choice, ...] = executing
            else:
                options = input_choices(i, wf, request.legal_basis)
            inputs.append(
                s.EventInputOut(
                    name=i.name,
                    type=i.type,
                    required=i.required,
                    label=label(i.labels, lang),
                    choices=choices(options, lang) if options else None,
                    to_field=i.to_field,
                )
            )
        events.append(
            s.AvailableEvent(
                event=a.event,
                label=label(a.transition.labels, lang),
                allowed=a.allowed,
                reason=a.reason,
                inputs=inputs,
                missing=list(a.missing),
            )
        )
    return s.RequestStatus(
        **_summary_fields(request, label(wf.states[request.state].labels, lang)),
        version=request.version_id,
        legal_basis=request.legal_basis,
        needed_by_reason=request.needed_by_reason,
        fields=dict(request.fields or {}),
        deadlines=deadlines,
        history=history,
        available_events=events,
        offence_categories=list(request.offence_categories or []),
        estimate=_estimate(svc, request),
    )


def _estimate(svc: RequestService, request: Request) -> s.EstimateOut | None:
    found = estimates.estimate(svc.session, request)
    if found is None:
        return None
    return s.EstimateOut(
        basis=found.basis, sample=found.sample, since=found.since, p50=found.p50, p90=found.p90
    )


# --- ETag -------------------------------------------------------------------------------------


def _request_tag(reference: str) -> str:
    return hashlib.sha256(reference.encode()).hexdigest()[:8]


def etag(status: s.RequestStatus, body: bytes) -> str:
    """``"v<version>-<request>-<digest>"``: the version and the request it belongs to for
    If-Match, the digest of the rendered body because a deadline can turn overdue, or a
    guard open, without the request changing. Reads recorded as progress queries are not in
    the body, so they do not change it."""
    digest = hashlib.sha256(body).hexdigest()[:24]
    return f'"v{status.version}-{_request_tag(status.reference)}-{digest}"'


_IF_MATCH = re.compile(r'^\s*(?:W/)?"?v?(\d+)(?:-([0-9a-f]{8})-[0-9a-f]+)?"?\s*$')


def expected_version(header: str | None, reference: str) -> int | None:
    """The version of request ``reference`` an ``If-Match`` header names (an ETag from GET
    of that request, or a bare version number); None when absent or ``*``. Raises Invalid
    when malformed or the ETag of another request (whose version number proves nothing)."""
    if header is None or header.strip() in ("", "*"):
        return None
    match = _IF_MATCH.match(header)
    if not match:
        raise Invalid(FieldError("If-Match", N_("must be an ETag from GET /requests/{reference}")))
    if match.group(2) is not None and match.group(2) != _request_tag(reference):
        raise Invalid(
            FieldError(
                "If-Match",
                N_("is the ETag of another request, not %(reference)s"),
                {"reference": reference},
            )
        )
    return int(match.group(1))


def not_modified(header: str | None, tag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return tag in tags


# --- cursors ----------------------------------------------------------------------------------


def cursor(request: Request) -> str:
    raw = f"{request.updated_at.isoformat()}|{request.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_cursor(value: str) -> tuple[datetime, int]:
    """(updated_at, id) from a cursor; Invalid naming ``cursor`` when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        at, _, ident = raw.partition("|")
        when = datetime.fromisoformat(at)
        number = parse_id(ident)
        if when.tzinfo is None or number is None:
            raise ValueError(at)
        return when, number
    except ValueError:
        raise Invalid(FieldError("cursor", N_("is not a next_cursor from this API"))) from None
