"""Validation of request field values and transition inputs against a workflow.

Pure functions: the request service uses :func:`field_errors` for forms and the API, the
``complete`` guard uses it to gate transmission, and the engine uses :func:`input_errors`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from mla.errors import N_, FieldError, Label, Message
from mla.workflow.model import PERSON_KEYS, Choice, Field, Input, Transition, Workflow

_AUTHORITY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


def is_blank(value: Any) -> bool:
    """Whether ``value`` counts as not given (None, empty, or only spaces)."""
    return (
        value is None
        or (isinstance(value, str | list | tuple) and not value)
        or (isinstance(value, str) and not value.strip())
    )


def as_date(value: Any) -> date | None:
    """``value`` as a date (a date, or an ISO ``YYYY-MM-DD`` string); None if it is neither."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _codes(choices: tuple[Choice, ...]) -> set[str]:
    return {c.code for c in choices}


def type_error(kind: str, value: Any, choices: tuple[Choice, ...]) -> str | None:
    """Why ``value`` is not a valid ``kind`` (a field or input type), or None."""
    if kind == "language":
        ok = isinstance(value, str) and _LANGUAGE.match(value) is not None
        return None if ok else Message(N_("must be a language code such as es or en"))
    if kind == "treaty":
        code_ok = isinstance(value, str) and _AUTHORITY.match(value) is not None
        return None if code_ok else Message(N_("must be a treaty code"))
    if kind in ("text", "longtext"):
        if not isinstance(value, str):
            return Message(N_("must be text"))
        return Message(N_("must not contain NUL characters")) if "\x00" in value else None
    if kind == "boolean":
        return None if isinstance(value, bool) else Message(N_("must be true or false"))
    if kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else Message(N_("must be a whole number"))
    if kind == "date":
        return None if as_date(value) is not None else Message(N_("must be a date (YYYY-MM-DD)"))
    if kind == "datetime":
        return (
            None
            if _as_datetime(value) is not None
            else Message(N_("must be a date and time (ISO 8601)"))
        )
    if kind == "authority":
        code_ok = isinstance(value, str) and _AUTHORITY.match(value) is not None
        return None if code_ok else Message(N_("must be an authority code"))
    if kind == "choice":
        codes = _codes(choices)
        return (
            None
            if value in codes
            else Message(N_("must be one of %(codes)s"), {"codes": ", ".join(sorted(codes))})
        )
    if kind == "multichoice":
        codes = _codes(choices)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            return Message(N_("must be a list of codes"))
        unknown = [v for v in value if v not in codes]
        if unknown:
            return Message(
                N_("%(unknown)s not among %(codes)s"),
                {"unknown": ", ".join(map(str, unknown)), "codes": ", ".join(sorted(codes))},
            )
        return Message(N_("must not repeat a code")) if len(set(value)) != len(value) else None
    if kind == "attachments":
        ids_ok = isinstance(value, list | tuple) and all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
        )
        return None if ids_ok else Message(N_("must be a list of attachment ids"))
    if kind == "persons":
        return _persons_error(value)
    return Message(N_("has unknown type %(kind)s"), {"kind": kind})


def _persons_error(value: Any) -> str | None:
    if not isinstance(value, list | tuple):
        return Message(N_("must be a list of persons"))
    for n, person in enumerate(value, start=1):
        if not isinstance(person, Mapping):
            return Message(N_("person %(n)s must be a mapping"), {"n": n})
        extra = set(person) - set(PERSON_KEYS)
        if extra:
            return Message(
                N_("person %(n)s has unknown keys %(extra)s"),
                {"n": n, "extra": ", ".join(sorted(map(str, extra)))},
            )
        if not isinstance(person.get("name"), str) or not person["name"].strip():
            return Message(N_("person %(n)s must have a name"), {"n": n})
        if any(not isinstance(person.get(k, ""), str) for k in PERSON_KEYS):
            return Message(
                N_("person %(n)s: name, nationality, location and role must be text"), {"n": n}
            )
    return None


def past_error(past: bool, value: Any, today: date | None) -> str | None:
    """Why a ``past`` date ``value`` is refused on ``today`` (the acting authority's local
    date), or None. Without ``today`` nothing is checked (the caller has no calendar)."""
    when = as_date(value)
    if not past or today is None or when is None or when <= today:
        return None
    return Message(
        N_("must not be in the future (today is %(today)s)"), {"today": today.isoformat()}
    )


def is_required(f: Field, basis: str, values: Mapping[str, Any]) -> bool:
    """Whether field ``f`` must be filled for a request on ``basis`` with ``values``."""
    if not f.required or (f.bases and basis not in f.bases):
        return False
    for other, codes in f.required_unless.items():
        given = values.get(other)
        given = [given] if isinstance(given, str) else given
        if given and all(v in codes for v in given):
            return False
    return True


def field_errors(
    wf: Workflow,
    basis: str,
    values: Mapping[str, Any],
    *,
    partial: bool = False,
    checkpoint: str | None = None,
    today: date | None = None,
) -> list[FieldError]:
    """Every problem with a request's ``values`` under ``wf`` and ``basis``.

    ``partial``: a draft being edited — only types and unknown names are checked.
    ``checkpoint``: check the fields whose ``required_in`` names it (e.g. provisional arrest)
    instead of the generally required ones. ``today``: refuse ``past`` dates after it.
    """
    errors: list[FieldError] = []
    if basis not in wf.legal_bases:
        errors.append(
            FieldError(
                "legal_basis",
                N_("must be one of %(legal_bases)s"),
                {"legal_bases": ", ".join(wf.legal_bases)},
            )
        )
    for name in values:
        if wf.field(name) is None:
            errors.append(FieldError(name, N_("is not a field of this kind of request")))
    for f in wf.fields:
        value = values.get(f.name)
        if is_blank(value):
            required = checkpoint in f.required_in if checkpoint else is_required(f, basis, values)
            if required and not partial:
                errors.append(FieldError(f.name, N_("is required"), code="required"))
            continue
        problem = type_error(f.type, value, f.choices) or past_error(f.past, value, today)
        if problem:
            errors.append(FieldError(f.name, problem))
    return errors


def input_choices(i: Input, wf: Workflow, basis: str) -> tuple[Choice, ...]:
    """The choices open for input ``i``: its own, or the basis's closed list of grounds."""
    return wf.refusal_grounds(basis) if i.choices_from == "refusal_grounds" else i.choices


def input_errors(
    t: Transition,
    wf: Workflow,
    basis: str,
    inputs: Mapping[str, Any],
    today: date | None = None,
) -> list[FieldError]:
    """Every problem with ``inputs`` for transition ``t``; fields are named ``inputs.<name>``.
    ``today``: refuse ``past`` dates after it."""
    declared = {i.name: i for i in t.inputs}
    errors = [
        FieldError(f"inputs.{name}", N_("is not an input of %(event)s"), {"event": Label(t.labels)})
        for name in inputs
        if name not in declared
    ]
    for i in t.inputs:
        value = inputs.get(i.name)
        if is_blank(value):
            if i.required:
                errors.append(FieldError(f"inputs.{i.name}", N_("is required"), code="required"))
            continue
        problem = type_error(i.type, value, input_choices(i, wf, basis)) or past_error(
            i.past, value, today
        )
        if problem:
            errors.append(FieldError(f"inputs.{i.name}", problem))
    return errors
