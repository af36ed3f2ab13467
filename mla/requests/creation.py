"""Opening a request: checks, the reference number, the first state; and opening one to
send it on at once. Part of the request service (see :mod:`mla.requests.service`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

import pycountry
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from mla.audit import replay
from mla.audit.models import EventKind
from mla.authorities.models import Authority, AuthorityKind
from mla.authorities.service import get_authority
from mla.deadlines.service import DeadlineService
from mla.errors import N_, FieldError, Incomplete, Invalid, NotFound
from mla.requests.events import RequestEvents
from mla.requests.header import CHANNELS, check_header, directory_errors
from mla.requests.models import ReferenceCounter, Request
from mla.requests.recording import RequestContext
from mla.requests.scope import Actor
from mla.workflow.model import Workflow
from mla.workflow.values import field_errors

__all__ = ["CHANNELS", "RequestCreation", "reference_number"]


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


class RequestCreation:
    """Opening requests, over one :class:`RequestContext`; ``events`` fires the first step
    of :meth:`create_and_submit`."""

    def __init__(self, ctx: RequestContext, events: RequestEvents) -> None:
        self.ctx = ctx
        self.events = events

    def create(
        self,
        actor: Actor,
        *,
        kind: str,
        requested_authority: str,
        legal_basis: str,
        fields: Mapping[str, Any] | None = None,
        urgency: str = "normal",
        needed_by: date | None = None,
        needed_by_reason: str | None = None,
        their_reference: str | None = None,
        confidential: bool = False,
        requesting_authority: str | None = None,
        received_on: date | None = None,
        channel: str | None = None,
        received_as: str | None = None,
        offence_categories: list[str] | None = None,
    ) -> Request:
        """Open a request of workflow ``kind`` (its newest version) in its initial state.

        The actor's authority is the requesting authority, unless ``requesting_authority``
        names an external one, whose request the actor (then the requested authority) records
        on its behalf as received: ``received_on`` (the date it arrived, not in the future),
        ``channel`` (diplomatic_note, email, courier, interpol, post) and optionally
        ``received_as`` (a state a transmission reaches; default the first). Such a request
        starts there, already with the requested side, its clocks counted from the day it
        arrived; the history says who recorded it for whom. ``offence_categories``: codes of
        :class:`~mla.requests.models.OffenceCategory`, several allowed. Fields are checked
        for type and name, and against the directory (the requested authority's languages,
        the treaty); completeness is the workflow's gate on transmission. Raises Invalid
        naming every bad field, an unknown authority among them.
        """
        ctx = self.ctx
        now = ctx.clock()
        errors: list[FieldError] = []
        try:
            engine = ctx.engines.latest(kind)
        except NotFound:
            raise Invalid(
                FieldError("kind", N_("unknown kind of request %(kind)r"), {"kind": kind})
            ) from None
        wf = engine.workflow
        requesting = actor.authority
        on_behalf_of: int | None = None
        if requesting_authority and requesting_authority.upper() != actor.authority.code:
            try:
                requesting = get_authority(ctx.session, requesting_authority)
            except NotFound:
                raise Invalid(
                    FieldError(
                        "requesting_authority",
                        N_("unknown authority %(requesting_authority)r"),
                        {"requesting_authority": requesting_authority},
                    )
                ) from None
            if not requesting.external:
                errors.append(
                    FieldError(
                        "requesting_authority",
                        N_("%(code)s is on mla and submits its own requests"),
                        {"code": requesting.code},
                    )
                )
            on_behalf_of = requesting.id
        try:
            requested = get_authority(ctx.session, requested_authority)
        except NotFound:
            errors.append(
                FieldError(
                    "requested_authority",
                    N_("unknown authority %(requested_authority)r"),
                    {"requested_authority": requested_authority},
                )
            )
            requested = None
        if requested is not None:
            if requested.kind != AuthorityKind.CENTRAL:
                errors.append(FieldError("requested_authority", N_("must be a central authority")))
            elif requested.country == requesting.country:
                errors.append(
                    FieldError(
                        "requested_authority", N_("must be another state's central authority")
                    )
                )
            if on_behalf_of is not None and requested.id != actor.authority.id:
                errors.append(
                    FieldError(
                        "requesting_authority",
                        N_("only the requested authority records an external authority's request"),
                    )
                )
        intake = on_behalf_of is not None
        start = wf.initial
        if intake:
            start, intake_errors = _intake_errors(
                wf, received_on, channel, received_as, requested, now
            )
            errors += intake_errors
        elif received_on or channel or received_as:
            errors.append(
                FieldError(
                    "received_on",
                    N_("only a request from an external authority is recorded as received"),
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
        deadlines = ctx.deadlines()
        today = deadlines.calendar(actor.authority).local_date(now)
        errors += field_errors(wf, legal_basis, values, partial=True, today=today)
        if requested is not None:
            errors += directory_errors(ctx.session, wf, requesting, requested, values)
        if errors:
            raise Invalid(errors)
        assert requested is not None
        # A received request's clocks run from the day it arrived, on the requested side's calendar.
        at = now
        if intake and received_on is not None:
            at = min(now, deadlines.calendar(requested).start_of_day(received_on))
        request = Request(
            reference=reference_number(ctx.session, kind, requesting, now),
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
        request.holder_authority = request.answering_for(engine.owner(start))
        ctx.session.add(request)
        ctx.session.flush()
        deadlines.on_create(request, wf, at)
        data: dict[str, Any] = {
            "state": request.state,
            "workflow": f"{wf.name}.v{wf.version}",
            replay.ROW: replay.recorded(
                ctx.session, request, replay.COLUMNS, fields=dict(request.fields)
            ),
        }
        if intake:
            assert received_on is not None
            data |= {"received_on": received_on.isoformat(), "channel": channel}
        created = ctx.record(
            request, EventKind.CREATED, actor, data, on_behalf_of=on_behalf_of, at=now
        )
        ctx.notifications().on_status_change(request, created)
        return request

    def create_and_submit(
        self,
        actor: Actor,
        *,
        kind: str,
        legal_basis: str,
        fields: Mapping[str, Any] | None = None,
        **header: Any,
    ) -> Request:
        """Open a request and send it on at once: what "submit" on a new request means.

        Takes what :meth:`create` takes. Requires a unit of work that may write. Guarantees
        that the request is created and its workflow's submit step
        (:meth:`~mla.workflow.model.Workflow.submit_event`) fired, or that it raises before
        the caller commits, leaving nothing to keep. Raises Incomplete (an Invalid) naming
        every field missing or wrong for submitting, with any problem :meth:`create` finds;
        Invalid (field ``kind``) for a kind with no such step; otherwise what :meth:`create`
        and :meth:`~mla.requests.events.RequestEvents.fire` raise: a Conflict or NotAllowed
        then is a refusal, never "incomplete".
        """
        try:
            wf = self.ctx.engines.latest(kind).workflow
        except NotFound:
            raise Invalid(
                FieldError("kind", N_("unknown kind of request %(kind)r"), {"kind": kind})
            ) from None
        event = wf.submit_event()
        if event is None:
            raise Invalid(
                FieldError(
                    "kind", N_("a %(kind)s request is not submitted in one step"), {"kind": kind}
                )
            )
        missing = field_errors(wf, legal_basis, dict(fields or {}))
        try:
            request = self.create(
                actor, kind=kind, legal_basis=legal_basis, fields=fields, **header
            )
        except Invalid as exc:
            if not missing:
                raise
            raise Incomplete(list(dict.fromkeys(exc.errors + missing))) from None
        if missing:
            raise Incomplete(missing)
        self.events.fire(request, event, actor)
        return request

    def create_and_transmit(self, actor: Actor, *, kind: str, **given: Any) -> Request:
        """Open a request and send it to the requested side at once: create, then fire the
        workflow's :meth:`~mla.workflow.model.Workflow.transmission_path` (mla: submit for
        review, sign, transmit), each step as ``actor`` with its own role and guards.

        Takes what :meth:`create` takes, except an external authority's request (that is
        recorded as received, not transmitted). Requires a unit of work that may write.
        All or nothing: it raises before the caller commits unless every step was taken;
        the caller rolls back. Raises Invalid (field ``transmit``) for a kind with no such
        path or an external request, and otherwise what :meth:`create` and
        :meth:`~mla.requests.events.RequestEvents.fire` raise (NotAllowed when the actor's
        role may not take a step, e.g. a clerk token and signing; Incomplete naming what is
        missing).
        """
        try:
            wf = self.ctx.engines.latest(kind).workflow
        except NotFound:
            raise Invalid(FieldError("kind", f"unknown kind of request {kind!r}")) from None
        path = wf.transmission_path()
        if path is None:
            raise Invalid(FieldError("transmit", f"a {kind} request cannot be sent in one call"))
        if given.get("requesting_authority") or given.get("received_on"):
            raise Invalid(
                FieldError("transmit", "an external authority's request is recorded, not sent")
            )
        # What is missing is named per field (422), as for "save and submit", not as the
        # first step's refusal.
        legal_basis = str(given.get("legal_basis") or "")
        missing = field_errors(wf, legal_basis, dict(given.get("fields") or {}))
        try:
            request = self.create(actor, kind=kind, **given)
        except Invalid as exc:
            if not missing:
                raise
            raise Incomplete(list(dict.fromkeys(exc.errors + missing))) from None
        if missing:
            raise Incomplete(missing)
        for event in path:
            self.events.fire(request, event, actor)
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
        errors.append(FieldError("received_on", N_("give the date the request was received")))
    elif requested is not None and received_on > DeadlineService.local_today(requested, now):
        errors.append(FieldError("received_on", N_("must not be in the future")))
    if channel not in CHANNELS:
        errors.append(
            FieldError(
                "channel", N_("must be one of %(CHANNELS)s"), {"CHANNELS": ", ".join(CHANNELS)}
            )
        )
    return start, errors
