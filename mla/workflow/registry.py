"""The guard registry: the ONLY place a workflow definition's callables come from.

A guard takes a :class:`GuardContext` and returns None when satisfied, or a reason a clerk
can read when not. Guards are pure: they read the request and the inputs, never write.
Definitions name guards; the engine resolves those names here and nowhere else (no dotted
import paths, no model methods), so a YAML file cannot make the process run arbitrary code.

Each guard also declares what it needs (:class:`Needs`): the request fields it requires, an
executing authority, the inputs it judges. That declaration is the one source the validator's
liveness check (:mod:`mla.workflow.liveness`) and the API's ``requires`` and ``missing`` read;
a guard must not need more than it declares.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from mla.errors import N_, FieldError, Label, Message
from mla.workflow.model import Field, Transition, Workflow
from mla.workflow.values import as_date, field_errors, is_blank, is_required


@dataclass(frozen=True, slots=True)
class Needs:
    """What a guard needs to pass, beside the clock.

    ``required_fields``: the workflow's required fields for the request's basis (``required``,
    ``bases``, ``required_unless``). ``checkpoint``: the fields whose ``required_in`` names it.
    ``fields``: these fields by name. ``executing_authority``: an executing authority, on the
    request already or given as the event's ``executing_authority`` input. ``inputs``: inputs
    the actor must give with the event (the event must declare them). A guard that waits
    for a period to run out declares only its date field: time brings the rest about.
    """

    required_fields: bool = False
    checkpoint: str | None = None
    fields: tuple[str, ...] = ()
    executing_authority: bool = False
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Requirement:
    """A field a transition's guards require: under ``bases`` only (empty: every basis), and
    not when every value of a field named in ``unless`` is among the codes listed."""

    name: str
    bases: tuple[str, ...] = ()
    unless: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunningDeadline:
    """The deadline service's answer about a running deadline of the request: when it falls
    due, in the time zone of the authority whose calendar counts it, and whether its one
    extension has been used."""

    due: datetime
    extended: bool


# None: the deadline of that name is not running (never started, closed or paused).
DueLookup = Callable[[str], RunningDeadline | None]


@dataclass
class GuardContext:
    """Everything a guard may look at. ``blocked`` collects (guard, reason) pairs as the
    machine evaluates conditions, so the engine can report why a transition did not happen.
    ``due`` asks the deadline service about the request's deadlines (a guard never counts
    days itself)."""

    request: Any
    inputs: Mapping[str, Any]
    workflow: Workflow
    now: datetime
    transition: Transition | None = None
    blocked: list[tuple[str, str]] = field(default_factory=list)
    due: DueLookup | None = None

    @property
    def fields(self) -> dict[str, Any]:
        """The request's fields as they will be once the event fires: a value given for an
        input with ``to_field`` counts, so an event can supply what its own guard requires."""
        values = dict(self.request.fields)
        for i in self.transition.inputs if self.transition is not None else ():
            if i.to_field is not None and not is_blank(self.inputs.get(i.name)):
                values[i.to_field] = self.inputs[i.name]
        return values


Guard = Callable[[GuardContext], str | None]

GUARDS: dict[str, Guard] = {}
NEEDS: dict[str, Needs] = {}
# Guards that judge what the actor types in; ``Engine.available`` cannot evaluate them before
# the actor has given inputs, so it leaves them to ``fire``.
INPUT_GUARDS: set[str] = set()

# Written reasons (Palermo 18.23) must say something; a few words is not a reason.
MIN_REASONS_LENGTH = 20


def guard(name: str, *, needs: Needs, judges_inputs: bool = False) -> Callable[[Guard], Guard]:
    """Register a guard under ``name``, declaring what it ``needs`` (``Needs()``: nothing)."""

    def register(func: Guard) -> Guard:
        if name in GUARDS:
            raise ValueError(f"guard {name!r} registered twice")
        GUARDS[name] = func
        NEEDS[name] = needs
        if judges_inputs:
            INPUT_GUARDS.add(name)
        return func

    return register


def _summarise(errors: list[FieldError], limit: int = 3) -> Message:
    text = Message.joined(
        [Message("%(f)s %(m)s", {"f": e.field, "m": Message(e.message, e.params)})
         for e in errors[:limit]]
    )  # fmt: skip
    more = len(errors) - limit
    return (
        Message(N_("%(list)s (and %(more)s more)"), {"list": text, "more": more})
        if more > 0
        else text
    )


def _text(ctx: GuardContext, name: str) -> str:
    value = ctx.inputs.get(name)
    return value.strip() if isinstance(value, str) else ""


def _deadline_label(ctx: GuardContext, deadline: str) -> str:
    """The deadline ``deadline`` by its label (the code, spaced, if the workflow has none)."""
    try:
        return Label(ctx.workflow.deadline(deadline)[1].labels)
    except KeyError:
        return deadline.replace("_", " ")


def _fallen_due(ctx: GuardContext, deadline: str) -> str | None:
    """None once the running deadline ``deadline`` has fallen due, as the deadline service
    counts it (the owning authority's calendar and time zone, to the end of the last day)."""
    what = _deadline_label(ctx, deadline)
    running = ctx.due(deadline) if ctx.due is not None else None
    if running is None:
        return Message(N_("the deadline %(what)s is not running"), {"what": what})
    if ctx.now <= running.due:
        return Message(
            N_("the deadline %(what)s runs until %(due)s"),
            {"what": what, "due": running.due.strftime("%Y-%m-%d %H:%M %Z")},
        )
    return None


def extension_refused(ctx: GuardContext, deadline: str) -> str | None:
    """Why the deadline ``deadline`` cannot be extended now (not running, or its one
    extension already used), or None. The engine asks it of every ``extends`` event."""
    what = _deadline_label(ctx, deadline)
    running = ctx.due(deadline) if ctx.due is not None else None
    if running is None:
        return Message(N_("the deadline %(what)s is not running"), {"what": what})
    if running.extended:
        return Message(N_("the deadline %(what)s has already been extended once"), {"what": what})
    return None


@guard("complete", needs=Needs(required_fields=True))
def complete(ctx: GuardContext) -> str | None:
    """Every required field of the request's basis is present and valid."""
    errors = field_errors(ctx.workflow, ctx.request.legal_basis, ctx.fields)
    return (
        Message(N_("the request is incomplete: %(summarise)s"), {"summarise": _summarise(errors)})
        if errors
        else None
    )


@guard("language_accepted", needs=Needs(fields=("language",)))
def language_accepted(ctx: GuardContext) -> str | None:
    """The request is in a language the requested authority accepts (Palermo 18.14), as
    its directory entry lists them."""
    language = ctx.request.fields.get("language")
    accepted = ctx.request.requested_languages
    if not accepted or language in accepted:
        return None
    return Message(
        N_(
            "%(requested_authority_code)s does not accept requests in %(language)r; it accepts "
            "%(accepted)s (18.14)"
        ),
        {
            "requested_authority_code": ctx.request.requested_authority_code,
            "language": language,
            "accepted": ", ".join(accepted),
        },
    )


@guard("provisional_arrest_complete", needs=Needs(checkpoint="provisional_arrest"))
def provisional_arrest_complete(ctx: GuardContext) -> str | None:
    """The fields a provisional arrest request needs (``required_in: [provisional_arrest]``)."""
    errors = field_errors(
        ctx.workflow, ctx.request.legal_basis, ctx.fields, checkpoint="provisional_arrest"
    )
    return (
        Message(
            N_("the provisional arrest request is incomplete: %(summarise)s"),
            {"summarise": _summarise(errors)},
        )
        if errors
        else None
    )


@guard("executing_authority_set", judges_inputs=True, needs=Needs(executing_authority=True))
def executing_authority_set(ctx: GuardContext) -> str | None:
    """An executing authority is named, in this event's inputs or already on the request.
    Whether the code exists in the directory is for the request service to check."""
    if _text(ctx, "executing_authority") or ctx.request.executing_authority_code:
        return None
    return Message(N_("no executing authority is named"))


@guard("grounds_valid", judges_inputs=True, needs=Needs(inputs=("grounds", "reasons")))
def grounds_valid(ctx: GuardContext) -> str | None:
    """At least one ground, each from the basis's closed list, and written reasons."""
    grounds = ctx.inputs.get("grounds") or []
    grounds = [grounds] if isinstance(grounds, str) else list(grounds)
    allowed = {c.code for c in ctx.workflow.refusal_grounds(ctx.request.legal_basis)}
    if not grounds:
        return Message(N_("a refusal must name at least one ground"))
    unknown = [g for g in grounds if g not in allowed]
    if unknown:
        return Message(
            N_("%(unknown)s is not a ground of refusal under %(legal_basis)r"),
            {"unknown": ", ".join(map(str, unknown)), "legal_basis": ctx.request.legal_basis},
        )
    if len(_text(ctx, "reasons")) < MIN_REASONS_LENGTH:
        return Message(
            N_("a refusal must give written reasons (at least %(MIN_REASONS_LENGTH)s characters)"),
            {"MIN_REASONS_LENGTH": MIN_REASONS_LENGTH},
        )
    return None


@guard("nationality_ground", judges_inputs=True, needs=Needs(inputs=("grounds",)))
def nationality_ground(ctx: GuardContext) -> str | None:
    """The refusal rests on the person being a national (aut dedere aut judicare, 16.10)."""
    grounds = ctx.inputs.get("grounds") or []
    return (
        None if "nationality" in grounds else Message(N_("the grounds do not include nationality"))
    )


@guard("conditions_stated", judges_inputs=True, needs=Needs(inputs=("conditions",)))
def conditions_stated(ctx: GuardContext) -> str | None:
    """The conditions proposed are written out."""
    return None if _text(ctx, "conditions") else Message(N_("the conditions must be stated"))


@guard("resume_date_set", judges_inputs=True, needs=Needs(inputs=("resume_date",)))
def resume_date_set(ctx: GuardContext) -> str | None:
    """A postponement or deferral gives a date to resume, later than today."""
    when = as_date(ctx.inputs.get("resume_date"))
    if when is None:
        return Message(N_("a date to resume must be given"))
    today: date = ctx.now.date()
    return None if when > today else Message(N_("the date to resume must be in the future"))


@guard("formal_request_deadline_passed", needs=Needs(fields=("arrest_date",)))
def formal_request_deadline_passed(ctx: GuardContext) -> str | None:
    """The deadline ``formal_request`` (the period for the formal request after a provisional
    arrest) has fallen due on its calendar."""
    return _fallen_due(ctx, "formal_request")


@guard("surrender_window_passed", needs=Needs(fields=("surrender_window_start",)))
def surrender_window_passed(ctx: GuardContext) -> str | None:
    """The deadline ``surrender_window`` has fallen due on its calendar, uncollected."""
    return _fallen_due(ctx, "surrender_window")


# --- what guards need, asked of a definition ------------------------------------------------


def _needed(f: Field, needs: Needs) -> bool:
    return (needs.required_fields and f.required) or _unconditional(f, needs)


def _unconditional(f: Field, needs: Needs) -> bool:
    """Needed whatever the basis and the other fields: by name or by checkpoint."""
    return f.name in needs.fields or (
        needs.checkpoint is not None and needs.checkpoint in f.required_in
    )


def requirements(wf: Workflow, t: Transition) -> list[Requirement]:
    """The fields ``t``'s guards require, in field order, with the condition under which each
    is required. A field required both unconditionally and conditionally is unconditional."""
    out = []
    for f in wf.fields:
        how = [NEEDS[g] for g in t.guards if g in NEEDS and _needed(f, NEEDS[g])]
        if any(_unconditional(f, n) for n in how):
            out.append(Requirement(f.name))
        elif how:
            out.append(Requirement(f.name, f.bases, f.required_unless))
    return out


def required_fields(
    wf: Workflow,
    t: Transition,
    basis: str,
    values: Mapping[str, Any],
    guards: tuple[str, ...] | None = None,
) -> list[str]:
    """The fields the guards of ``t`` (or only ``guards``) require of a request on ``basis``
    holding ``values``, in field order. With ``values`` empty a ``required_unless`` field
    counts as required (no value exempts it yet)."""
    needs = [NEEDS[g] for g in (t.guards if guards is None else guards) if g in NEEDS]
    return [
        f.name
        for f in wf.fields
        if any(_unconditional(f, n) for n in needs)
        or (any(n.required_fields for n in needs) and is_required(f, basis, values))
    ]


def supplied(t: Transition) -> set[str]:
    """The fields ``t``'s own inputs can fill (``to_field``)."""
    return {i.to_field for i in t.inputs if i.to_field is not None}


def missing(wf: Workflow, t: Transition, basis: str, values: Mapping[str, Any]) -> list[str]:
    """The fields ``t``'s guards require that ``values`` lack and ``t``'s inputs do not
    supply: what must be added to the request before ``t`` can fire."""
    given = supplied(t)
    return [
        name
        for name in required_fields(wf, t, basis, values)
        if is_blank(values.get(name)) and name not in given
    ]
