"""The guard registry: the ONLY place a workflow definition's callables come from.

A guard takes a :class:`GuardContext` and returns None when satisfied, or a reason a clerk
can read when not. Guards are pure: they read the request and the inputs, never write.
Definitions name guards; the engine resolves those names here and nowhere else (no dotted
import paths, no model methods), so a YAML file cannot make the process run arbitrary code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from mla.workflow.model import Transition, Workflow
from mla.workflow.values import as_date, field_errors


@dataclass
class GuardContext:
    """Everything a guard may look at. ``blocked`` collects (guard, reason) pairs as the
    machine evaluates conditions, so the engine can report why a transition did not happen."""

    request: Any
    inputs: Mapping[str, Any]
    workflow: Workflow
    now: datetime
    transition: Transition | None = None
    blocked: list[tuple[str, str]] = field(default_factory=list)


Guard = Callable[[GuardContext], str | None]

GUARDS: dict[str, Guard] = {}
# Guards that judge what the actor types in; ``Engine.available`` cannot evaluate them before
# the actor has given inputs, so it leaves them to ``fire``.
INPUT_GUARDS: set[str] = set()

# Written reasons (Palermo 18.23) must say something; a few words is not a reason.
MIN_REASONS_LENGTH = 20


def guard(name: str, *, judges_inputs: bool = False) -> Callable[[Guard], Guard]:
    def register(func: Guard) -> Guard:
        if name in GUARDS:
            raise ValueError(f"guard {name!r} registered twice")
        GUARDS[name] = func
        if judges_inputs:
            INPUT_GUARDS.add(name)
        return func

    return register


def _summarise(errors: list[Any], limit: int = 3) -> str:
    text = "; ".join(f"{e.field} {e.message}" for e in errors[:limit])
    more = len(errors) - limit
    return text + (f" (and {more} more)" if more > 0 else "")


def _text(ctx: GuardContext, name: str) -> str:
    value = ctx.inputs.get(name)
    return value.strip() if isinstance(value, str) else ""


def _figure(ctx: GuardContext, name: str) -> int | None:
    return ctx.workflow.figures(ctx.request.legal_basis).get(name)


def _lapsed(ctx: GuardContext, field_name: str, figure: str, what: str) -> str | None:
    start = as_date(ctx.request.fields.get(field_name))
    days = _figure(ctx, figure)
    if start is None:
        return f"the {field_name.replace('_', ' ')} is not recorded"
    if days is None:
        return f"legal basis {ctx.request.legal_basis!r} sets no {figure}"
    # Treaty periods are counted in calendar days; the period ends at the end of its last day.
    ends = start + timedelta(days=days)
    if ctx.now.date() <= ends:
        return f"the {what} runs until {ends.isoformat()}"
    return None


@guard("complete")
def complete(ctx: GuardContext) -> str | None:
    """Every required field of the request's basis is present and valid."""
    errors = field_errors(ctx.workflow, ctx.request.legal_basis, ctx.request.fields)
    return f"the request is incomplete: {_summarise(errors)}" if errors else None


@guard("language_accepted")
def language_accepted(ctx: GuardContext) -> str | None:
    """The request is in a language the requested authority accepts (Palermo 18.14), as
    its directory entry lists them."""
    language = ctx.request.fields.get("language")
    accepted = ctx.request.requested_languages
    if not accepted or language in accepted:
        return None
    return (
        f"{ctx.request.requested_authority_code} does not accept requests in {language!r}; "
        f"it accepts {', '.join(accepted)} (18.14)"
    )


@guard("provisional_arrest_complete")
def provisional_arrest_complete(ctx: GuardContext) -> str | None:
    """The fields a provisional arrest request needs (``required_in: [provisional_arrest]``)."""
    errors = field_errors(
        ctx.workflow, ctx.request.legal_basis, ctx.request.fields, checkpoint="provisional_arrest"
    )
    return f"the provisional arrest request is incomplete: {_summarise(errors)}" if errors else None


@guard("executing_authority_set", judges_inputs=True)
def executing_authority_set(ctx: GuardContext) -> str | None:
    """An executing authority is named, in this event's inputs or already on the request.
    Whether the code exists in the directory is for the request service to check."""
    if _text(ctx, "executing_authority") or ctx.request.executing_authority_code:
        return None
    return "no executing authority is named"


@guard("grounds_valid", judges_inputs=True)
def grounds_valid(ctx: GuardContext) -> str | None:
    """At least one ground, each from the basis's closed list, and written reasons."""
    grounds = ctx.inputs.get("grounds") or []
    grounds = [grounds] if isinstance(grounds, str) else list(grounds)
    allowed = {c.code for c in ctx.workflow.refusal_grounds(ctx.request.legal_basis)}
    if not grounds:
        return "a refusal must name at least one ground"
    unknown = [g for g in grounds if g not in allowed]
    if unknown:
        return (
            f"{', '.join(map(str, unknown))} is not a ground of refusal under "
            f"{ctx.request.legal_basis!r}"
        )
    if len(_text(ctx, "reasons")) < MIN_REASONS_LENGTH:
        return f"a refusal must give written reasons (at least {MIN_REASONS_LENGTH} characters)"
    return None


@guard("nationality_ground", judges_inputs=True)
def nationality_ground(ctx: GuardContext) -> str | None:
    """The refusal rests on the person being a national (aut dedere aut judicare, 16.10)."""
    grounds = ctx.inputs.get("grounds") or []
    return None if "nationality" in grounds else "the grounds do not include nationality"


@guard("conditions_stated", judges_inputs=True)
def conditions_stated(ctx: GuardContext) -> str | None:
    """The conditions proposed are written out."""
    return None if _text(ctx, "conditions") else "the conditions must be stated"


@guard("resume_date_set", judges_inputs=True)
def resume_date_set(ctx: GuardContext) -> str | None:
    """A postponement or deferral gives a date to resume, later than today."""
    when = as_date(ctx.inputs.get("resume_date"))
    if when is None:
        return "a date to resume must be given"
    today: date = ctx.now.date()
    return None if when > today else "the date to resume must be in the future"


@guard("formal_request_deadline_passed")
def formal_request_deadline_passed(ctx: GuardContext) -> str | None:
    """The period for the formal request after a provisional arrest has run out
    (the basis's ``formal_request_days`` from the arrest date)."""
    return _lapsed(ctx, "arrest_date", "formal_request_days", "period for the formal request")


@guard("surrender_window_passed")
def surrender_window_passed(ctx: GuardContext) -> str | None:
    """The surrender window (the basis's ``surrender_days``) has run out uncollected."""
    return _lapsed(ctx, "surrender_window_start", "surrender_days", "surrender window")
