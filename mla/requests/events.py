"""Moving a request on: its workflow's events, and (re)assigning it within the authority
holding it. Part of the request service (see :mod:`mla.requests.service`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select

from mla.assets import moves
from mla.audit import replay
from mla.audit.models import Event, EventKind
from mla.authorities.models import Authority, AuthorityKind, Role, User
from mla.authorities.service import get_authority
from mla.errors import FieldError, Invalid, NotAllowed, NotFound
from mla.evidence.models import Attachment
from mla.requests.models import Request
from mla.requests.recording import RequestContext
from mla.requests.scope import Actor
from mla.workflow.engine import Availability, Engine


class RequestEvents:
    """The workflow's events and assignment, over one :class:`RequestContext`."""

    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx

    def available_events(self, request: Request, actor: Actor) -> list[Availability]:
        """Events from the current state open to the actor's parties, each with the reason
        a role or a guard blocks it now (``allowed`` False)."""
        parties = self.ctx.parties(request, actor)
        if not parties:
            return []
        return self.ctx.engine(request).available(
            request,
            parties=frozenset(parties),
            role=actor.role,
            now=self.ctx.clock(),
            due=self.ctx.deadlines().due_lookup(request),
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
        ctx = self.ctx
        reference = request.reference  # still readable after a failed flush expires the row
        parties = ctx.party_to(request, actor)
        ctx.lock(request, expected_version)
        now = ctx.clock()
        engine = ctx.engine(request)
        inputs = dict(inputs or {})
        authorities = self._resolve_authority_inputs(request, engine, event, inputs, actor)
        source = request.state
        deadlines = ctx.deadlines()
        t = engine.fire(
            request,
            event,
            parties=frozenset(parties),
            role=actor.role,
            inputs=inputs,
            now=now,
            today=deadlines.calendar(actor.authority).local_date(now),
            due=deadlines.due_lookup(request),
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
        counted = deadlines.counted_dues(request, engine.workflow) if corrected else {}
        if fields != request.fields:
            request.fields = fields
        if "executing_authority" in authorities:
            request.executing_authority = authorities["executing_authority"]
        dest = t.target(source)
        state = wf.states[dest]
        request.holder_authority = request.answering_for(state.owner)
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
        ctx.flush(reference)

        deadlines.on_transition(request, wf, t.dest, t.by, now)
        if corrected:
            deadlines.on_edit(request, wf, corrected, counted, now)
        if t.extends:
            deadlines.extend(request, wf, t.extends, now)
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
            ctx.session,
            request,
            replay.TRANSITION,
            fields_set={
                i.to_field: inputs[i.name] for i in t.inputs if i.to_field and i.name in inputs
            },
        )
        moved = ctx.record(
            request, EventKind.TRANSITION, actor, data, on_behalf_of=parties.get(t.by), at=now
        )
        ctx.notifications().on_status_change(request, moved)
        # An assets request's register moves with its steps, in the same transaction.
        moves.on_transition(ctx.session, request, moved)
        for hook in ctx.after_step:
            hook(request, moved, actor)
        return moved

    def _resolve_authority_inputs(
        self, request: Request, engine: Engine, event: str, inputs: dict[str, Any], actor: Actor
    ) -> dict[str, Authority]:
        """Look up the authorities named by code in ``inputs``. Skipped when the event is not
        open to the actor: the engine then says why, before any input is judged."""
        t = engine.transition(request.state, event)
        resolved: dict[str, Authority] = {}
        parties = frozenset(self.ctx.parties(request, actor))
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
                authority = get_authority(self.ctx.session, str(code))
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
            self.ctx.session.scalars(
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

    def may_assign(self, request: Request, actor: Actor) -> bool:
        """Whether ``actor`` may (re)assign ``request`` within its own authority: a
        supervisor (or admin) of an authority that is party to it and sees it. Each party
        authority has its own assignee; none sees another's."""
        own = self.ctx.parties(request, actor)
        return (
            any(behalf is None for behalf in own.values())
            and actor.role.includes(Role.SUPERVISOR)
            and request.party_row(actor.authority.id) is not None
        )

    def assign(self, request: Request, assignee_id: int | None, actor: Actor) -> Event:
        """Make the user ``assignee_id`` responsible for ``request`` within the actor's
        authority, or nobody there (None). Another party's assignee is left as it is.

        Requires a unit of work that may write. Only a supervisor (or admin) of an authority
        party to the request may (re)assign it, and only to an active user of that authority.
        Guarantees the change and its history entry are flushed together. Raises NotFound if
        the actor is no party, NotAllowed if it may not assign, Invalid (field ``assignee``)
        for any other id, with the same words whether or not such a user exists elsewhere
        (nothing about other authorities leaks), Conflict if the request changed meanwhile.
        """
        ctx = self.ctx
        ctx.party_to(request, actor)
        if not self.may_assign(request, actor):
            raise NotAllowed("only a supervisor of an authority party to it may assign it")
        own = actor.authority
        assignee = None
        if assignee_id is not None:
            assignee = ctx.session.get(User, assignee_id)
            if assignee is None or assignee.authority_id != own.id or not assignee.active:
                raise Invalid(FieldError("assignee", f"choose an active user of {own.code}"))
        row = request.party_row(own.id)
        assert row is not None  # may_assign
        previous = row.assignee.username if row.assignee else None
        row.assignee = assignee
        ctx.flush(request.reference)
        to = assignee.username if assignee else None
        # The history names the authority whose assignee it is: each party has its own.
        data = {"from": previous, "to": to, replay.ROW: {"assigned": {own.code: to}}}
        return ctx.record(request, EventKind.ASSIGNED, actor, data)
