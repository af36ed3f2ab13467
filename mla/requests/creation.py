"""Opening a request: checks, the reference number, the first state (see
RequestService.create, the entry point)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import pycountry
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from mla.audit import chain, replay
from mla.audit.models import EventKind
from mla.authorities.models import Authority, AuthorityKind
from mla.authorities.service import get_authority
from mla.authorities.treaties import get_treaty
from mla.deadlines.service import Clocks, party_authority
from mla.errors import FieldError, Invalid, NotFound
from mla.notify.service import NotificationService
from mla.requests.drafts import check_header
from mla.requests.models import ReferenceCounter, Request
from mla.workflow.model import Workflow
from mla.workflow.values import field_errors

# How a request from a state not on mla arrives (LEGAL.md "Requests from states not on the
# system").
CHANNELS = ("diplomatic_note", "email", "courier", "interpol", "post")

if TYPE_CHECKING:
    from mla.requests.scope import Actor
    from mla.requests.service import RequestService


def _insert_for(session: Session) -> Callable[..., Any]:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def reference_number(session: Session, kind: str, authority: Authority, now: datetime) -> str:
    """The next reference for ``kind`` opened by ``authority``, e.g. MLA-ARG-2026-00042:
    unique under concurrency, numbered without gaps among committed requests."""
    country = pycountry.countries.get(alpha_2=authority.country)
    prefix = f"{kind[:3].upper()}-{country.alpha_3 if country else authority.country}"
    insert = _insert_for(session)
    # One atomic upsert per number: concurrent creators queue on the counter's row.
    stmt = (
        insert(ReferenceCounter)
        .values(prefix=prefix, year=now.year, last=1)
        .on_conflict_do_update(
            index_elements=["prefix", "year"], set_={"last": ReferenceCounter.last + 1}
        )
        .returning(ReferenceCounter.last)
    )
    number = session.execute(stmt).scalar_one()
    return f"{prefix}-{now.year}-{number:05d}"


def directory_errors(
    session: Session,
    wf: Workflow,
    requesting: Authority,
    requested: Authority,
    values: Mapping[str, Any],
) -> list[FieldError]:
    """What the directory says is wrong with ``values``: a ``language`` field the requested
    authority does not accept (18.14), a ``treaty`` field naming no treaty, or one that does
    not bind the two parties' states. Fields of other types are left to ``field_errors``."""
    errors: list[FieldError] = []
    for f in wf.fields:
        value = values.get(f.name)
        if not isinstance(value, str) or not value:
            continue
        if f.type == "language" and requested.languages and value not in requested.languages:
            errors.append(
                FieldError(
                    f.name,
                    f"{requested.code} accepts requests in {', '.join(requested.languages)}, "
                    f"not {value!r} (18.14)",
                )
            )
        elif f.type == "treaty":
            try:
                treaty = get_treaty(session, value)
            except NotFound:
                errors.append(FieldError(f.name, f"no treaty {value!r} in the directory"))
                continue
            if not treaty.between(requesting.country, requested.country):
                errors.append(
                    FieldError(
                        f.name,
                        f"treaty {treaty.code} binds {treaty.state_a} and {treaty.state_b}, "
                        f"not {requesting.country} and {requested.country}",
                    )
                )
    return errors


def create(
    svc: RequestService,
    actor: Actor,
    *,
    kind: str,
    requested_authority: str,
    legal_basis: str,
    fields: Mapping[str, Any] | None,
    urgency: str,
    needed_by: date | None,
    needed_by_reason: str | None,
    their_reference: str | None,
    confidential: bool,
    requesting_authority: str | None,
    offence_categories: list[str] | None = None,
    received_on: date | None = None,
    channel: str | None = None,
    received_as: str | None = None,
) -> Request:
    """See :meth:`mla.requests.service.RequestService.create`."""
    now = svc.clock()
    errors: list[FieldError] = []
    try:
        engine = svc.engines.latest(kind)
    except NotFound:
        raise Invalid(FieldError("kind", f"unknown kind of request {kind!r}")) from None
    wf = engine.workflow
    requesting = actor.authority
    on_behalf_of: int | None = None
    if requesting_authority and requesting_authority.upper() != actor.authority.code:
        requesting = get_authority(svc.session, requesting_authority)
        if not requesting.external:
            errors.append(
                FieldError(
                    "requesting_authority",
                    f"{requesting.code} is on mla and submits its own requests",
                )
            )
        on_behalf_of = requesting.id
    try:
        requested = get_authority(svc.session, requested_authority)
    except NotFound:
        errors.append(
            FieldError("requested_authority", f"unknown authority {requested_authority!r}")
        )
        requested = None
    if requested is not None:
        if requested.kind != AuthorityKind.CENTRAL:
            errors.append(FieldError("requested_authority", "must be a central authority"))
        elif requested.country == requesting.country:
            errors.append(
                FieldError("requested_authority", "must be another state's central authority")
            )
        if on_behalf_of is not None and requested.id != actor.authority.id:
            errors.append(
                FieldError(
                    "requesting_authority",
                    "only the requested authority records an external authority's request",
                )
            )
    intake = on_behalf_of is not None
    start = wf.initial
    if intake:
        start, intake_errors = _intake_errors(wf, received_on, channel, received_as, requested, now)
        errors += intake_errors
    elif received_on or channel or received_as:
        errors.append(
            FieldError(
                "received_on",
                "only a request from an external authority is recorded as received",
            )
        )
    given = {
        "urgency": urgency,
        "their_reference": their_reference,
        "needed_by": needed_by,
        "needed_by_reason": needed_by_reason,
        "offence_categories": offence_categories,
    }
    header, header_errors = check_header(given, now.date())
    errors += header_errors
    values = dict(fields or {})
    today = Clocks(svc.session).calendar(actor.authority).local_date(now)
    errors += field_errors(wf, legal_basis, values, partial=True, today=today)
    if requested is not None:
        errors += directory_errors(svc.session, wf, requesting, requested, values)
    if errors:
        raise Invalid(errors)
    assert requested is not None
    # A received request's clocks run from the day it arrived, on the requested side's calendar.
    at = now
    if intake and received_on is not None:
        at = min(now, Clocks(svc.session).calendar(requested).start_of_day(received_on))
    request = Request(
        reference=reference_number(svc.session, kind, requesting, now),
        their_reference=header["their_reference"],
        kind=wf.name,
        workflow_version=wf.version,
        state=start,
        requesting_authority=requesting,
        requested_authority=requested,
        legal_basis=legal_basis,
        urgency=header["urgency"],
        needed_by=header["needed_by"],
        needed_by_reason=header["needed_by_reason"],
        offence_categories=header.get("offence_categories", []),
        fields=values,
        confidential=confidential,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
        # Recorded by the requested authority for an external one: it has it already.
        transmitted_at=at if intake else None,
    )
    request.holder_authority = party_authority(request, engine.owner(start))
    svc.session.add(request)
    svc.session.flush()
    Clocks(svc.session).on_create(request, wf, at)
    data: dict[str, Any] = {
        "state": request.state,
        "workflow": f"{wf.name}.v{wf.version}",
        replay.ROW: replay.recorded(
            svc.session, request, replay.COLUMNS, fields=dict(request.fields)
        ),
    }
    if intake:
        assert received_on is not None
        data |= {"received_on": received_on.isoformat(), "channel": channel}
    created = chain.append(
        svc.session,
        request,
        EventKind.CREATED,
        actor_user_id=actor.user_id,
        actor_authority_id=actor.authority.id,
        on_behalf_of_id=on_behalf_of,
        data=data,
        at=now,
    )
    NotificationService(svc.session, svc.engines).on_status_change(request, created)
    return request


def _intake_errors(
    wf: Workflow,
    received_on: date | None,
    channel: str | None,
    received_as: str | None,
    requested: Authority | None,
    now: datetime,
) -> tuple[str, list[FieldError]]:
    """The state an external authority's request starts in, and what is wrong with how its
    arrival is recorded: the date it was received (never in the future, on the requested
    side's calendar), the channel, and the state named (one a transmission reaches)."""
    errors: list[FieldError] = []
    starts = wf.intake_states()
    start = received_as or (starts[0] if starts else wf.initial)
    if start not in starts:
        errors.append(
            FieldError(
                "received_as",
                f"must be one of {', '.join(starts)}" if starts else "no state receives requests",
            )
        )
    if received_on is None:
        errors.append(FieldError("received_on", "give the date the request was received"))
    elif requested is not None and received_on > Clocks.local_today(requested, now):
        errors.append(FieldError("received_on", "must not be in the future"))
    if channel not in CHANNELS:
        errors.append(FieldError("channel", f"must be one of {', '.join(CHANNELS)}"))
    return start, errors
