"""Moving a request on: its workflow's events, and (re)assigning it within the authority
holding it. Part of the request service (see :mod:`mla.requests.service`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select

from mla.assets import moves
from mla.audit import replay
from mla.audit.models import Event, EventKind
from mla.authorities.models import Authority, AuthorityKind, Role, User
from mla.authorities.service import get_authority
from mla.errors import N_, FieldError, Invalid, NotAllowed, NotFound
from mla.evidence.models import Attachment
from mla.requests.header import CHANNELS
from mla.requests.models import Request
from mla.requests.recording import RequestContext
from mla.requests.scope import Actor
from mla.statistics import runs as stage_runs
from mla.workflow.engine import Availability, Engine
from mla.workflow.values import input_errors


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
        received_on: date | None = None,
        channel: str | None = None,
    ) -> Event:
        """Take ``event`` on ``request`` as ``actor``, with ``inputs``.

        ``received_on`` and ``channel``: for a step the actor records on behalf of an
        authority not on mla, the day its message arrived (not in the future on the actor's
        calendar) and how (one of :data:`~mla.requests.header.CHANNELS`); kept in the
        history. Given for any other step they are refused (Invalid).

        Requires the request to have been read through this service (scoped to the actor).
        ``expected_version`` is the version the actor saw (from a form or an If-Match); when
        omitted, the version loaded in this session. Guarantees: the state, holder, deadlines
        and a history event are written together, in this transaction. Raises NotFound if the
        actor is no party; Conflict if the request changed since it was seen (naming who and
        when), if the event is not open in this state, or a guard blocks it (with its reason);
        NotAllowed for another party's event or too low a role; Invalid naming each bad input.
        """
        ctx = self.ctx
        parties = ctx.party_to(request, actor)
        ctx.lock(request, expected_version)
        now = ctx.clock()
        engine = ctx.engine(request)
        inputs = dict(inputs or {})
        authorities = self._resolve_authority_inputs(request, engine, event, inputs, actor)
        source = request.state
        deadlines = ctx.deadlines()
        today = deadlines.local_today(actor.authority, now)
        t_open = engine.transition(source, event)
        behalf = parties.get(t_open.by) if t_open is not None else None
        arrival = _arrival_errors(behalf is not None, received_on, channel, today)
        if (
            arrival
            and t_open is not None
            and not engine.denied(t_open, frozenset(parties), actor.role)
        ):
            # With what is wrong with the inputs, in one answer. A step not open, or not the
            # actor's, is refused by the engine below before anything is judged.
            wf = engine.workflow
            given = input_errors(t_open, wf, request.legal_basis, inputs, today)
            raise Invalid(arrival + given)
        # Read once, before anything changes: what the guards ask and what the move updates.
        running = deadlines.open_deadlines(request)
        # What the statistics' stage runs follow, besides the deadlines the move closes.
        counted = self._counted(request)
        t = engine.fire(
            request,
            event,
            parties=frozenset(parties),
            role=actor.role,
            inputs=inputs,
            now=now,
            today=today,
            due=deadlines.due_lookup(request, running),
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
        dues = deadlines.counted_dues(request, engine.workflow) if corrected else {}
        if fields != request.fields:
            request.fields = fields
        # Ids set with the relationships: the history records them before the flush.
        if "executing_authority" in authorities:
            request.executing_authority = authorities["executing_authority"]
            request.executing_authority_id = authorities["executing_authority"].id
        dest = t.target(source)
        state = wf.states[dest]
        request.holder_authority = holder = request.answering_for(state.owner)
        request.holder_authority_id = holder.id
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
        # One flush for the whole step, in record() below: the request's row (with the
        # chain's new head), its deadlines, party rows, notifications and the history entry.
        deadlines.on_transition(request, wf, t.dest, t.by, now, running)
        if corrected:
            deadlines.on_edit(request, wf, corrected, dues, now)
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
        if received_on is not None:
            data["received_on"] = received_on.isoformat()
        if channel:
            data["channel"] = channel
        data[replay.ROW] = replay.recorded(
            ctx.session,
            request,
            replay.TRANSITION,
            fields_set={
                i.to_field: inputs[i.name] for i in t.inputs if i.to_field and i.name in inputs
            },
        )
        # What the step tells the parties, queued now so that one flush (the history
        # entry's, below) writes it with the step.
        ctx.notifications().queue_status_change(
            request, EventKind.TRANSITION, at=now, source=source, actor_user_id=actor.user_id
        )
        moved = ctx.record(
            request,
            EventKind.TRANSITION,
            actor,
            data,
            on_behalf_of=parties.get(t.by),
            at=now,
            locked=True,
            stages=stage_runs.ended(running) or counted != self._counted(request),
            deadlines=deadlines,
        )
        # An assets request's register moves with its steps, in the same transaction.
        moves.on_transition(ctx.session, request, moved)
        for hook in ctx.after_step:
            hook(request, moved, actor)
        return moved

    @staticmethod
    def _counted(request: Request) -> tuple[Any, ...]:
        """What a request's stage runs follow of it besides its deadlines: its closure (and
        outcome with it), its transmission and its executing authority."""
        return (request.closed_at, request.transmitted_at, request.executing_authority_id)

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
                raise Invalid(
                    FieldError(field, N_("unknown authority %(code)r"), {"code": code})
                ) from None
            if authority.kind != AuthorityKind.EXECUTING or (
                authority.parent_id != request.requested_authority_id
            ):
                raise Invalid(
                    FieldError(
                        field,
                        N_("%(code)s is not an executing authority of %(code2)s"),
                        {"code": authority.code, "code2": request.requested_authority.code},
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
                FieldError(
                    f"inputs.{name}",
                    N_("no attachment %(listed)s on %(reference)s"),
                    {"listed": listed, "reference": request.reference},
                )
            )

    def may_assign(self, request: Request, actor: Actor) -> bool:
        """Whether ``actor`` may (re)assign ``request`` within its own authority: a
        supervisor (or admin) of an authority that is party to it and sees it, whoever
        holds it now. Each party authority has its own assignee; none sees another's."""
        own = self.ctx.parties(request, actor)
        return any(behalf is None for behalf in own.values()) and _assigns(request, actor)

    def assignable(self, actor: Actor, requests: Iterable[Request]) -> set[int]:
        """The ids of those of ``requests`` that ``actor`` may assign, as :meth:`may_assign`
        judges each, for a list of them: read from their party rows (the lists load them
        with the requests), so it asks the database nothing. A stored party row is the
        authority's seeing the request (:func:`mla.requests.scope.seeing`, written down)."""
        return {r.id for r in requests if _assigns(r, actor)}

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
            raise NotAllowed(N_("only a supervisor of an authority party to it may assign it"))
        own = actor.authority
        assignee = None
        if assignee_id is not None:
            assignee = ctx.session.get(User, assignee_id)
            if assignee is None or assignee.authority_id != own.id or not assignee.active:
                raise Invalid(
                    FieldError(
                        "assignee", N_("choose an active user of %(code)s"), {"code": own.code}
                    )
                )
        row = request.party_row(own.id)
        assert row is not None  # may_assign
        previous = row.assignee.username if row.assignee else None
        row.assignee = assignee
        ctx.flush(request.reference)
        to = assignee.username if assignee else None
        # The history names the authority whose assignee it is: each party has its own.
        data = {"from": previous, "to": to, replay.ROW: {"assigned": {own.code: to}}}
        return ctx.record(request, EventKind.ASSIGNED, actor, data)


def _assigns(request: Request, actor: Actor) -> bool:
    """The actor is a supervisor (or admin) of an authority with its own party row, and so
    its own assignee, on ``request``."""
    return (
        actor.role.includes(Role.SUPERVISOR) and request.party_row(actor.authority.id) is not None
    )


def _arrival_errors(
    on_behalf: bool, received_on: date | None, channel: str | None, today: date
) -> list[FieldError]:
    """What is wrong with how a step recorded for an authority not on mla arrived."""
    if not on_behalf:
        if received_on is not None or channel:
            return [
                FieldError(
                    "received_on",
                    "only a step recorded for an authority not on mla is recorded as received",
                )
            ]
        return []
    errors: list[FieldError] = []
    if received_on is not None and received_on > today:
        errors.append(FieldError("received_on", "must not be in the future"))
    if channel and channel not in CHANNELS:
        errors.append(FieldError("channel", f"must be one of {', '.join(CHANNELS)}"))
    return errors
