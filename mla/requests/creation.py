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
from mla.db import begin_write
from mla.deadlines.service import Clocks, party_authority
from mla.errors import FieldError, Invalid, NotFound
from mla.notify.service import NotificationService
from mla.requests.drafts import check_header
from mla.requests.models import ReferenceCounter, Request
from mla.workflow.values import field_errors

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
) -> Request:
    """See :meth:`mla.requests.service.RequestService.create`."""
    begin_write(svc.session)
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
    given = {
        "urgency": urgency,
        "their_reference": their_reference,
        "needed_by": needed_by,
        "needed_by_reason": needed_by_reason,
    }
    header, header_errors = check_header(given, now.date())
    errors += header_errors
    values = dict(fields or {})
    errors += field_errors(wf, legal_basis, values, partial=True)
    if errors:
        raise Invalid(errors)
    assert requested is not None
    request = Request(
        reference=reference_number(svc.session, kind, requesting, now),
        their_reference=header["their_reference"],
        kind=wf.name,
        workflow_version=wf.version,
        state=wf.initial,
        requesting_authority=requesting,
        requested_authority=requested,
        legal_basis=legal_basis,
        urgency=header["urgency"],
        needed_by=header["needed_by"],
        needed_by_reason=header["needed_by_reason"],
        fields=values,
        confidential=confidential,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
        # Recorded by the requested authority for an external one: it has it already.
        transmitted_at=now if on_behalf_of is not None else None,
    )
    request.holder_authority = party_authority(request, engine.owner(wf.initial))
    svc.session.add(request)
    svc.session.flush()
    Clocks(svc.session).on_create(request, wf, now)
    created = chain.append(
        svc.session,
        request,
        EventKind.CREATED,
        actor_user_id=actor.user_id,
        actor_authority_id=actor.authority.id,
        on_behalf_of_id=on_behalf_of,
        data={
            "state": request.state,
            "workflow": f"{wf.name}.v{wf.version}",
            replay.ROW: replay.recorded(
                svc.session, request, replay.COLUMNS, fields=dict(request.fields)
            ),
        },
        at=now,
    )
    NotificationService(svc.session, svc.engines).on_status_change(request, created)
    return request
