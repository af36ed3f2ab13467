"""The engine: one ``transitions.Machine`` per workflow version, shared by every request.

The machine is built once with ``model=None`` and never given models: an event runs on a
persisted request through ``machine.events[event].trigger(request, ctx)``, which only reads
and writes the request's ``state`` attribute (a plain string). Nothing on the hot path builds
a machine, touches YAML or copies a definition, and no per-call state lives on the machine,
so one engine may serve many threads at once.

``transitions`` does not roll a state back when something after the change fails: the
request service must fire inside its database transaction and roll back on any error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from transitions import Machine

from mla.errors import (
    N_,
    Conflict,
    FieldError,
    Invalid,
    Label,
    Message,
    NotAllowed,
    as_message,
)
from mla.workflow.definition import WorkflowSet
from mla.workflow.model import ROLES, Transition, Workflow
from mla.workflow.registry import (
    GUARDS,
    INPUT_GUARDS,
    DueLookup,
    Guard,
    GuardContext,
    extension_refused,
    missing,
    required_fields,
    supplied,
)
from mla.workflow.values import input_errors, is_blank


def _condition(name: str, guard: Guard) -> Callable[[Any], bool]:
    """Adapt a registry guard to a ``transitions`` condition (``send_event=True``)."""

    def check(event_data: Any) -> bool:
        ctx: GuardContext = event_data.args[0]
        reason = guard(ctx)
        if reason is None:
            return True
        ctx.blocked.append((name, reason))
        return False

    check.__name__ = f"guard_{name}"
    return check


# Built once: the machine resolves a condition name to one of these and to nothing else.
_CONDITIONS: dict[str, Callable[[Any], bool]] = {n: _condition(n, g) for n, g in GUARDS.items()}


class RegistryMachine(Machine):
    """A Machine whose callables come only from :data:`mla.workflow.registry.GUARDS`.

    ``transitions`` would otherwise resolve a string as a model attribute or import it as a
    dotted path, which would let a definition file name arbitrary code.
    """

    def resolve_callable(self, func: Any, event_data: Any) -> Callable[..., Any]:  # type: ignore[override]
        if isinstance(func, str):
            try:
                return _CONDITIONS[func]
            except KeyError:
                raise AttributeError(f"{func!r} is not a registered guard") from None
        return cast(Callable[..., Any], func)


@dataclass(frozen=True, slots=True)
class Availability:
    """An event open from the current state to the caller's party; ``allowed`` False with a
    ``reason`` when its role or a guard on the request stops it now. ``missing``: the fields
    its guards require that the request lacks and its inputs do not supply."""

    event: str
    transition: Transition
    allowed: bool
    reason: str | None
    missing: tuple[str, ...] = ()


# Each party by the UI's words for it, translated where the reason is shown.
_PARTIES = {
    "requesting": Message(N_("requesting authority")),
    "requested": Message(N_("requested authority")),
    "executing": Message(N_("executing authority")),
}


def _role_rank(role: str) -> int:
    try:
        return ROLES.index(role)
    except ValueError:
        raise NotAllowed(N_("unknown role %(role)r"), {"role": role}) from None


class Engine:
    """Runs events of one workflow version on persisted requests."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self._route: dict[tuple[str, str], Transition] = {
            (source, t.event): t for t in workflow.transitions for source in t.sources
        }
        self._events = frozenset(t.event for t in workflow.transitions)
        self.machine = RegistryMachine(
            model=None,
            states=[{"name": s.name, "final": s.final} for s in workflow.states.values()],
            initial=workflow.initial,
            transitions=[
                {
                    "trigger": t.event,
                    "source": source,
                    # dest None: an internal transition, no exit or entry, deadlines keep running.
                    "dest": t.dest,
                    "conditions": list(t.guards),
                }
                for t in workflow.transitions
                for source in t.sources
            ],
            auto_transitions=False,
            send_event=True,
            model_attribute="state",
            name=f"{workflow.name}.v{workflow.version}",
        )

    def owner(self, state: str) -> str:
        """The party holding a request in ``state``. Raises KeyError for an unknown state."""
        return self.workflow.states[state].owner

    def transition(self, state: str, event: str) -> Transition | None:
        """The transition ``event`` takes from ``state``, if any."""
        return self._route.get((state, event))

    def denied(self, t: Transition, parties: frozenset[str], role: str) -> str | None:
        """Why the holder of ``role`` in ``parties`` may not fire ``t``, or None if they may;
        the reason names the step by its label (a :class:`~mla.errors.Label`: in the reader's
        language where shown, English in the API's ``detail``)."""
        if t.by not in parties:
            return Message(
                N_("only the %(party)s may %(event)s"),
                {"party": _PARTIES.get(t.by, t.by), "event": Label(t.labels)},
            )
        minimum = t.min_role
        if minimum is not None and _role_rank(role) < ROLES.index(minimum):
            # The role by the word the UI uses for it (a Message: translated where shown).
            return Message(
                N_("%(event)s needs the %(minimum)s role"),
                {"event": Label(t.labels), "minimum": Message(minimum)},
            )
        return None

    def fire(
        self,
        model: Any,
        event: str,
        *,
        parties: frozenset[str],
        role: str,
        inputs: Mapping[str, Any],
        now: datetime,
        today: date | None = None,
        due: DueLookup | None = None,
    ) -> Transition:
        """Take ``event`` on ``model`` (anything with ``state``, ``fields``, ``legal_basis``,
        ``executing_authority_code``, ``requested_authority_code``, ``requested_languages``,
        ``kind``) and set ``model.state``.

        Requires: ``parties`` — the parties the caller acts as on this request; ``role`` — the
        caller's role. Guarantees: on return ``model.state`` is the transition's target; on an
        exception ``model.state`` is unchanged. ``today``: the actor's local date, after which
        ``past`` date inputs are refused (default: ``now``'s UTC date); ``due``: the deadline
        service's answer for the guards that ask whether a deadline has fallen due. Storing
        ``to_field`` inputs, deadlines and history is the caller's job. Raises, in this
        order of checks:
        :class:`Invalid` (field ``event``) for an unknown event; :class:`Conflict` when the
        event is not open from the current state; :class:`NotAllowed` for the wrong party or
        too low a role; :class:`Invalid` naming each bad ``inputs.<name>``; :class:`Conflict`
        with the guard's reason when a guard blocks or an ``extends`` event's deadline is not
        running or already extended.
        """
        if event not in self._events:
            raise Invalid(
                FieldError(
                    "event",
                    N_("%(event)r is not an event of %(name)s"),
                    {"event": event, "name": self.workflow.name},
                )
            )
        state = model.state
        t = self._route.get((state, event))
        if t is None:
            if state not in self.workflow.states:
                raise Conflict(
                    N_("the request is in state %(state)r, unknown to this workflow"),
                    {"state": state},
                )
            raise Conflict(
                N_("%(event)s is not possible in state %(state)r"),
                {"event": event.replace("_", " "), "state": state},
                code="not_in_state",
            )
        denied = self.denied(t, parties, role)
        if denied:
            raise NotAllowed(denied)
        errors = input_errors(
            t, self.workflow, model.legal_basis, inputs, now.date() if today is None else today
        )
        if errors:
            raise Invalid(errors)
        ctx = GuardContext(
            request=model, inputs=inputs, workflow=self.workflow, now=now, transition=t, due=due
        )
        refused = extension_refused(ctx, t.extends) if t.extends and due is not None else None
        if refused:
            raise Conflict(refused, code="blocked")
        if not self.machine.events[event].trigger(model, ctx):
            if not ctx.blocked:
                raise Conflict(
                    N_("%(event)s did not happen"), {"event": Label(t.labels)}, code="blocked"
                )
            raise Conflict(Message.joined([as_message(r) for _, r in ctx.blocked]), code="blocked")
        return t

    def available(
        self,
        model: Any,
        *,
        parties: frozenset[str],
        role: str,
        now: datetime,
        due: DueLookup | None = None,
    ) -> list[Availability]:
        """Events open from ``model.state`` to any of ``parties``, in definition order.

        Guards that judge inputs (``INPUT_GUARDS``) are left to :meth:`fire`, and so is a
        guard whose only lacking fields the event's own inputs supply (``to_field``); the
        others are evaluated on the request as it stands.
        """
        wf = self.workflow
        out: list[Availability] = []
        for t in wf.transitions_from(model.state):
            if t.by not in parties:
                continue
            reason = self.denied(t, parties, role)
            if reason is None:
                ctx = GuardContext(
                    request=model, inputs={}, workflow=wf, now=now, transition=t, due=due
                )
                if t.extends and due is not None:
                    reason = extension_refused(ctx, t.extends)
                for name in t.guards if reason is None else ():
                    if name in INPUT_GUARDS or self._supplied_by_inputs(t, name, model):
                        continue
                    reason = GUARDS[name](ctx)
                    if reason is not None:
                        break
            lacking = tuple(missing(wf, t, model.legal_basis, model.fields))
            out.append(Availability(t.event, t, reason is None, reason, lacking))
        return out

    def _supplied_by_inputs(self, t: Transition, guard: str, model: Any) -> bool:
        """Whether ``guard`` lacks fields on ``model`` and ``t``'s inputs supply every one."""
        required = required_fields(self.workflow, t, model.legal_basis, model.fields, (guard,))
        lacking = {f for f in required if is_blank(model.fields.get(f))}
        return bool(lacking) and lacking <= supplied(t)


class Engines:
    """One :class:`Engine` per workflow version of a :class:`WorkflowSet`, built once."""

    def __init__(self, workflows: WorkflowSet) -> None:
        self.workflows = workflows
        self._engines = {wf.key: Engine(wf) for wf in workflows}

    def get(self, name: str, version: int) -> Engine:
        """The engine of ``name`` at ``version``; raises :class:`mla.errors.NotFound`."""
        wf = self.workflows.get(name, version)
        return self._engines[wf.key]

    def latest(self, name: str) -> Engine:
        return self._engines[self.workflows.latest(name).key]
