"""The request service: the only code that creates requests or changes their state.

Every method takes the caller as an :class:`Actor` and sees only requests the caller's
authority is party to. Methods flush; the boundary (HTTP request, CLI command, worker job)
begins the unit of work as one that may write (:func:`mla.db.begin_write`) and commits. An
event is fired inside the caller's transaction: the state, the holder, the deadlines and the
hash-chained history are written together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from mla.assets import service as assets
from mla.audit import chain, replay
from mla.audit.models import Event, EventKind
from mla.authorities.models import Authority, AuthorityKind, Role, User
from mla.authorities.service import get_authority
from mla.db import get_session, utcnow
from mla.deadlines.service import Clocks, party_authority
from mla.errors import (
    Conflict,
    FieldError,
    Incomplete,
    Invalid,
    NotAllowed,
    NotFound,
    has_nul,
)
from mla.evidence.models import Attachment
from mla.notify.service import NotificationService
from mla.requests import creation, drafts, scope
from mla.requests.models import Request
from mla.requests.scope import Actor as Actor  # callers take the Actor with the service
from mla.workflow.engine import Availability, Engine, Engines
from mla.workflow.values import field_errors

# Events that change what a request is (as opposed to reads recorded for the audit).
CHANGES = (
    EventKind.CREATED,
    EventKind.TRANSITION,
    EventKind.FIELDS_CHANGED,
    EventKind.ASSIGNED,
    EventKind.WORKFLOW_MIGRATED,
)
# Status polling runs this on every read; built once, since building it costs more than running it.
_VERSION_OF = select(Request.id, Request.version_id).where(
    scope.party_of(bindparam("authority_id")), Request.reference == bindparam("reference")
)


class RequestService:
    def __init__(
        self, session: Session, engines: Engines, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.session = session
        self.engines = engines
        self.clock = clock

    # --- scope ----------------------------------------------------------------------------

    def scoped(self, actor: Actor) -> Select[Request]:
        """Every query about requests starts here: only those the actor's authority is party to."""
        return select(Request).where(scope.party_of(actor.authority.id))

    def get(self, actor: Actor, reference: str) -> Request:
        """The request ``reference`` if the actor's authority is party to it.

        Raises NotFound otherwise, whether or not it exists: existence must not leak.
        """
        if has_nul(reference):
            raise NotFound(f"no request {reference!r}")
        request = self.session.scalar(
            self.scoped(actor).where(Request.reference == reference.strip().upper())
        )
        if request is None:
            raise NotFound(f"no request {reference}")
        return request

    def version_of(self, actor: Actor, reference: str) -> tuple[int, int]:
        """(id, version) of request ``reference`` if the actor's authority is party to it:
        one narrow query, for readers that can answer from a cache keyed by version.
        Raises NotFound like :meth:`get`."""
        if has_nul(reference):
            raise NotFound(f"no request {reference!r}")
        row = self.session.execute(
            _VERSION_OF,
            {"authority_id": actor.authority.id, "reference": reference.strip().upper()},
        ).first()
        if row is None:
            raise NotFound(f"no request {reference}")
        return row.id, row.version_id

    def search(
        self,
        actor: Actor,
        *,
        state: str | None = None,
        kind: str | None = None,
        updated_since: datetime | None = None,
        after: tuple[datetime, int] | None = None,
        limit: int = 50,
    ) -> list[Request]:
        """Requests visible to the actor, newest change first, keyset-paginated by
        ``after`` = (updated_at, id) of the last row of the previous page."""
        query = self.scoped(actor)
        if state:
            query = query.where(Request.state == state)
        if kind:
            query = query.where(Request.kind == kind)
        if updated_since:
            query = query.where(Request.updated_at >= updated_since)
        if after:
            at, last_id = after
            query = query.where(
                or_(Request.updated_at < at, and_(Request.updated_at == at, Request.id < last_id))
            )
        query = query.order_by(Request.updated_at.desc(), Request.id.desc()).limit(limit)
        return list(self.session.scalars(query))

    # --- parties --------------------------------------------------------------------------

    def parties(self, request: Request, actor: Actor) -> dict[str, int | None]:
        """See :func:`mla.requests.scope.parties`."""
        return scope.parties(request, actor)

    def engine(self, request: Request) -> Engine:
        return self.engines.get(request.kind, request.workflow_version)

    # --- create ---------------------------------------------------------------------------

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
    ) -> Request:
        """Open a request of workflow ``kind`` (its newest version) in its initial state.

        The actor's authority is the requesting authority, unless ``requesting_authority``
        names an external one, whose request the actor (then the requested authority) records
        on its behalf as received: ``received_on`` (the date it arrived, not in the future),
        ``channel`` (diplomatic_note, email, courier, interpol, post) and optionally
        ``received_as`` (a state a transmission reaches; default the first). Such a request
        starts there, already with the requested side, its clocks counted from the day it
        arrived; the history says who recorded it for whom. Fields are checked for type and
        name, and against the directory (the requested authority's languages, the treaty);
        completeness is the workflow's gate on transmission. Raises Invalid naming every bad
        field, NotFound for an unknown authority.
        """
        return creation.create(
            self,
            actor,
            kind=kind,
            requested_authority=requested_authority,
            legal_basis=legal_basis,
            fields=fields,
            urgency=urgency,
            needed_by=needed_by,
            needed_by_reason=needed_by_reason,
            their_reference=their_reference,
            confidential=confidential,
            requesting_authority=requesting_authority,
            received_on=received_on,
            channel=channel,
            received_as=received_as,
        )

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
        and :meth:`fire` raise: a Conflict or NotAllowed then is a refusal, never "incomplete".
        """
        try:
            wf = self.engines.latest(kind).workflow
        except NotFound:
            raise Invalid(FieldError("kind", f"unknown kind of request {kind!r}")) from None
        event = wf.submit_event()
        if event is None:
            raise Invalid(FieldError("kind", f"a {kind} request is not submitted in one step"))
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
        self.fire(request, event, actor)
        return request

    # --- events ---------------------------------------------------------------------------

    def available_events(self, request: Request, actor: Actor) -> list[Availability]:
        """Events from the current state open to the actor's parties, each with the reason
        a role or a guard blocks it now (``allowed`` False)."""
        parties = self.parties(request, actor)
        if not parties:
            return []
        return self.engine(request).available(
            request,
            parties=frozenset(parties),
            role=actor.role,
            now=self.clock(),
            due=Clocks(self.session).due_lookup(request),
        )

    def last_change(self, request: Request) -> Event | None:
        return self.session.scalar(
            select(Event)
            .where(Event.request_id == request.id, Event.kind.in_([str(k) for k in CHANGES]))
            .order_by(Event.seq.desc())
            .limit(1)
        )

    def _conflict(self, request: Request) -> Conflict:
        last = self.last_change(request)
        if last is None:
            return Conflict(f"{request.reference} was changed by someone else; reload it")
        who = "someone else"
        if last.actor_user_id is not None:
            who = self.session.get_one(User, last.actor_user_id).username
        elif last.actor_authority_id is not None:
            who = (
                f"the API client of {self.session.get_one(Authority, last.actor_authority_id).code}"
            )
        return Conflict(
            f"{request.reference} was changed by {who} at "
            f"{last.at.strftime('%Y-%m-%d %H:%M:%S')} UTC; reload it and try again"
        )

    def lock(self, request: Request, expected_version: int | None) -> None:
        """Lock ``request`` for a change and check it is still the version the actor saw
        (``expected_version``, or the one loaded in this session).

        Requires a unit of work that may write (the boundary begins one: on SQLite it holds
        the write lock already). Locks the row (PostgreSQL) and re-reads what is committed
        now, so the state acted on is the one checked and a change that won a race is
        reported, not undone. Raises Conflict naming who changed it and when.
        """
        reference = request.reference
        seen = request.version_id if expected_version is None else expected_version
        try:
            self.session.refresh(request, with_for_update={"of": Request})
        except OperationalError as exc:
            raise Conflict(f"{reference} is being changed by someone else; retry") from exc
        if request.version_id != seen:
            raise self._conflict(request)

    def _resolve_authority_inputs(
        self, request: Request, engine: Engine, event: str, inputs: dict[str, Any], actor: Actor
    ) -> dict[str, Authority]:
        """Look up the authorities named by code in ``inputs``. Skipped when the event is not
        open to the actor: the engine then says why, before any input is judged."""
        t = engine.transition(request.state, event)
        resolved: dict[str, Authority] = {}
        parties = frozenset(self.parties(request, actor))
        if t is None or engine.denied(t, parties, actor.role) is not None:
            return resolved
        for i in t.inputs:
            code = inputs.get(i.name)
            if i.type == "attachments" and isinstance(code, list) and code:
                self._check_attachments(request, i.name, code)
            if i.type != "authority" or not code:
                continue
            field = f"inputs.{i.name}"
            try:
                authority = get_authority(self.session, str(code))
            except NotFound:
                raise Invalid(FieldError(field, f"unknown authority {code!r}")) from None
            if authority.kind != AuthorityKind.EXECUTING or (
                authority.parent_id != request.requested_authority_id
            ):
                raise Invalid(
                    FieldError(
                        field,
                        f"{authority.code} is not an executing authority of "
                        f"{request.requested_authority.code}",
                    )
                )
            resolved[i.name] = authority
        return resolved

    def _check_attachments(self, request: Request, name: str, ids: list[Any]) -> None:
        """Every id in ``ids`` names an attachment of ``request`` (raises Invalid naming
        ``inputs.<name>`` otherwise; ids of other requests are not told apart)."""
        wanted = {i for i in ids if isinstance(i, int) and not isinstance(i, bool)}
        found = set(
            self.session.scalars(
                select(Attachment.id).where(
                    Attachment.request_id == request.id, Attachment.id.in_(wanted)
                )
            )
        )
        missing = sorted(wanted - found)
        if missing:
            listed = ", ".join(map(str, missing))
            raise Invalid(
                FieldError(f"inputs.{name}", f"no attachment {listed} on {request.reference}")
            )

    def fire(
        self,
        request: Request,
        event: str,
        actor: Actor,
        inputs: Mapping[str, Any] | None = None,
        *,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> Event:
        """Take ``event`` on ``request`` as ``actor``, with ``inputs``.

        Requires the request to have been read through this service (scoped to the actor).
        ``expected_version`` is the version the actor saw (from a form or an If-Match); when
        omitted, the version loaded in this session. Guarantees: the state, holder, deadlines
        and a history event are written together, in this transaction. Raises NotFound if the
        actor is no party; Conflict if the request changed since it was seen (naming who and
        when), if the event is not open in this state, or a guard blocks it (with its reason);
        NotAllowed for another party's event or too low a role; Invalid naming each bad input.
        """
        reference = request.reference  # still readable after a failed flush expires the row
        parties = self.parties(request, actor)
        if not parties:
            raise NotFound(f"no request {reference}")
        self.lock(request, expected_version)
        now = self.clock()
        engine = self.engine(request)
        inputs = dict(inputs or {})
        authorities = self._resolve_authority_inputs(request, engine, event, inputs, actor)
        source = request.state
        clocks = Clocks(self.session)
        t = engine.fire(
            request,
            event,
            parties=frozenset(parties),
            role=actor.role,
            inputs=inputs,
            now=now,
            today=clocks.calendar(actor.authority).local_date(now),
            due=clocks.due_lookup(request),
        )
        wf = engine.workflow
        fields = dict(request.fields)
        for i in t.inputs:
            if i.to_field and i.name in inputs:
                fields[i.to_field] = inputs[i.name]
        # A recorded value replaced by an event that leaves the request where it is (a
        # correction): the history keeps both, and the deadlines counted from it move.
        corrected = {
            name: {"from": request.fields[name], "to": value}
            for name, value in fields.items()
            if t.dest is None and name in request.fields and request.fields[name] != value
        }
        counted = clocks.counted_dues(request, engine.workflow) if corrected else {}
        if fields != request.fields:
            request.fields = fields
        if "executing_authority" in authorities:
            request.executing_authority = authorities["executing_authority"]
        dest = t.target(source)
        state = wf.states[dest]
        request.holder_authority = party_authority(request, state.owner)
        request.updated_at = now
        if request.transmitted_at is None and state.owner != "requesting":
            request.transmitted_at = now
        if state.final:
            request.closed_at = now
            request.outcome = dest
        elif request.closed_at is not None:
            # An after-closure event (18.19 consent) opens the request again for a while.
            request.closed_at = None
            request.outcome = None
        try:
            self.session.flush()
        except (StaleDataError, OperationalError) as exc:
            raise Conflict(f"{reference} was changed by someone else at the same time") from exc

        clocks.on_transition(request, wf, t.dest, t.by, now)
        if corrected:
            clocks.on_edit(request, wf, corrected, counted, now)
        if t.extends:
            clocks.extend(request, wf, t.extends, now)
        data: dict[str, Any] = {"event": event, "from": source, "to": dest, "by": t.by}
        if inputs:
            data["inputs"] = {
                k: v.isoformat() if isinstance(v, date) else v for k, v in inputs.items()
            }
        if corrected:
            data["corrected"] = corrected
        if comment:
            data["comment"] = comment
        data[replay.ROW] = replay.recorded(
            self.session,
            request,
            replay.TRANSITION,
            fields_set={
                i.to_field: inputs[i.name] for i in t.inputs if i.to_field and i.name in inputs
            },
        )
        moved = chain.append(
            self.session,
            request,
            EventKind.TRANSITION,
            actor_user_id=actor.user_id,
            actor_authority_id=actor.authority.id,
            on_behalf_of_id=parties.get(t.by),
            data=data,
            at=now,
        )
        NotificationService(self.session, self.engines).on_status_change(request, moved)
        # An assets request's register moves with its steps, in the same transaction.
        assets.on_transition(self.session, request, moved)
        return moved

    def update(
        self,
        request: Request,
        actor: Actor,
        *,
        fields: Mapping[str, Any] | None = None,
        urgency: str | drafts.Unset = drafts.UNSET,
        needed_by: date | drafts.Unset | None = drafts.UNSET,
        needed_by_reason: str | drafts.Unset | None = drafts.UNSET,
        their_reference: str | drafts.Unset | None = drafts.UNSET,
        confidential: bool | drafts.Unset = drafts.UNSET,
        expected_version: int | None = None,
    ) -> Event | None:
        """Change a request its authority is still preparing (not yet transmitted).

        ``fields`` maps field names to new values; None or empty removes a field; fields not
        named keep their value. Header arguments left out keep theirs. Checked like
        :meth:`create` (types and names; completeness waits for transmission). Guarantees:
        the changes and one ``fields_changed`` history event naming what changed and
        recording the new values are written together, with the running deadlines counted
        from what changed (``needed_by``, an anchor field, a ``when`` field) brought in line;
        nothing is written when nothing changed (returns None).
        Raises NotFound if the actor is no party; Conflict if the request changed since
        ``expected_version`` (naming who and when); NotAllowed once transmitted, for the
        requested or executing side, or in a state the other side owns; Invalid naming each
        bad field.
        """
        given = {
            "urgency": urgency,
            "needed_by": needed_by,
            "needed_by_reason": needed_by_reason,
            "their_reference": their_reference,
            "confidential": confidential,
        }
        return drafts.update(
            self,
            request,
            actor,
            fields=fields,
            expected_version=expected_version,
            header={k: v for k, v in given.items() if v is not drafts.UNSET},
        )

    @staticmethod
    def may_assign(request: Request, actor: Actor) -> bool:
        """Whether ``actor`` may (re)assign ``request``: a supervisor (or admin) of the
        authority holding it."""
        return actor.authority.id == request.holder_authority_id and actor.role.includes(
            Role.SUPERVISOR
        )

    def assign(self, request: Request, assignee_id: int | None, actor: Actor) -> Event:
        """Make the user ``assignee_id`` responsible for ``request``, or nobody (None).

        Requires a unit of work that may write. Only a supervisor (or admin) of the authority
        holding the request may (re)assign it, and only to an active user of that authority.
        Guarantees the change and its history entry are flushed together. Raises NotFound if
        the actor is no party, NotAllowed if it may not assign, Invalid (field ``assignee``)
        for any other id, with the same words whether or not such a user exists elsewhere
        (nothing about other authorities leaks), Conflict if the request changed meanwhile.
        """
        reference = request.reference
        if not self.parties(request, actor):
            raise NotFound(f"no request {reference}")
        if not self.may_assign(request, actor):
            raise NotAllowed("only a supervisor of the authority holding it may assign it")
        assignee = None
        if assignee_id is not None:
            assignee = self.session.get(User, assignee_id)
            if (
                assignee is None
                or assignee.authority_id != request.holder_authority_id
                or not assignee.active
            ):
                raise Invalid(
                    FieldError("assignee", f"choose an active user of {actor.authority.code}")
                )
        previous = request.assignee.username if request.assignee else None
        request.assignee = assignee
        try:
            self.session.flush()
        except (StaleDataError, OperationalError) as exc:
            raise Conflict(f"{reference} was changed by someone else at the same time") from exc
        return chain.append(
            self.session,
            request,
            EventKind.ASSIGNED,
            actor_user_id=actor.user_id,
            actor_authority_id=actor.authority.id,
            data={
                "from": previous,
                "to": assignee.username if assignee else None,
                replay.ROW: replay.recorded(self.session, request, ("assignee",)),
            },
            at=self.clock(),
        )

    def history(self, request: Request) -> list[Event]:
        return list(
            self.session.scalars(
                select(Event).where(Event.request_id == request.id).order_by(Event.seq)
            )
        )


def request_service() -> RequestService:
    """The request service of the current application context (web, API, CLI, worker)."""
    return RequestService(get_session(), current_app.extensions["mla.engines"])
