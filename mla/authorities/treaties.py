"""Bilateral treaties and an authority's own service-level targets: the figures deadlines
count with besides a workflow's defaults. Services flush; the boundary commits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pycountry
from sqlalchemy import select
from sqlalchemy.orm import Session

from mla.authorities.models import Authority, Treaty
from mla.errors import N_, Conflict, FieldError, Invalid, NotFound

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,31}$")
_FIGURE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Larger than any real figure (ten years in days), small enough to catch a typo.
MAX_FIGURE = 3660


def figure_errors(figures: Mapping[str, Any], field: str = "figures") -> list[FieldError]:
    """What is wrong with named deadline figures: names like ``decide_days``, whole numbers
    from 0 to :data:`MAX_FIGURE`."""
    errors = []
    for name, value in figures.items():
        if not isinstance(name, str) or not _FIGURE.match(name):
            errors.append(
                FieldError(
                    field, N_("%(name)r is not a figure name (e.g. decide_days)"), {"name": name}
                )
            )
        elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_FIGURE:
            errors.append(
                FieldError(
                    f"{field}.{name}",
                    N_("must be a whole number from 0 to %(MAX_FIGURE)s"),
                    {"MAX_FIGURE": MAX_FIGURE},
                )
            )
    return errors


def add_treaty(
    session: Session,
    code: str,
    *,
    name: str,
    states: tuple[str, str],
    figures: Mapping[str, Any] | None = None,
    reference: str | None = None,
) -> Treaty:
    """Record the bilateral treaty ``code`` between the two ``states`` (ISO 3166-1 alpha-2).

    Guarantees: the treaty is flushed with its figures. Raises Invalid naming each bad field
    (code, name, states, figures), Conflict when the code is taken.
    """
    code = (code or "").strip().upper()
    errors: list[FieldError] = []
    if not _CODE.match(code):
        errors.append(FieldError("code", N_("must be letters, digits, '.', '_' or '-' (max 32)")))
    name = (name or "").strip()
    if not name:
        errors.append(FieldError("name", N_("is required"), code="required"))
    pair = tuple(s.strip().upper() for s in states)
    for country in pair:
        if pycountry.countries.get(alpha_2=country) is None:
            errors.append(
                FieldError(
                    "states",
                    N_("%(country)r is not an ISO 3166-1 alpha-2 code"),
                    {"country": country},
                )
            )
    if len(set(pair)) != 2:
        errors.append(FieldError("states", N_("a bilateral treaty binds two different states")))
    figures = dict(figures or {})
    errors += figure_errors(figures)
    if errors:
        raise Invalid(errors)
    if session.scalar(select(Treaty.id).where(Treaty.code == code)) is not None:
        raise Conflict(N_("treaty %(code)s already exists"), {"code": code})
    treaty = Treaty(
        code=code,
        name=name[:300],
        state_a=pair[0],
        state_b=pair[1],
        figures=figures,
        reference=(reference or "").strip() or None,
    )
    session.add(treaty)
    session.flush()
    return treaty


def list_treaties(session: Session) -> list[Treaty]:
    """Every treaty, by code."""
    return list(session.scalars(select(Treaty).order_by(Treaty.code)))


def get_treaty(session: Session, code: str) -> Treaty:
    """The treaty ``code`` (any case). Raises NotFound."""
    treaty = session.scalar(select(Treaty).where(Treaty.code == str(code).strip().upper()))
    if treaty is None:
        raise NotFound(N_("no treaty %(code)r"), {"code": code})
    return treaty


def target_overrides(authority: Authority, workflow: str) -> dict[str, int]:
    """The targets ``authority`` set for itself in ``workflow`` (empty when none)."""
    own = (authority.target_overrides or {}).get(workflow) or {}
    return {k: v for k, v in own.items() if isinstance(v, int) and not isinstance(v, bool)}


def set_target(
    session: Session,
    authority: Authority,
    workflow: Any,
    name: str,
    days: int | None,
) -> dict[str, int]:
    """Override target ``name`` of ``workflow`` (a :class:`~mla.workflow.model.Workflow`) for
    ``authority``'s own deadlines, or drop the override (``days`` None).

    Requires the caller to be that authority's admin (the boundary checks). Guarantees:
    deadlines that ``authority`` must meet and that start from now on count with it;
    running ones keep their due time. Returns the authority's overrides for the workflow.
    Raises Invalid naming ``name`` when the workflow has no such target, or ``days`` when it
    is not a whole number from 0 to :data:`MAX_FIGURE`.
    """
    if name not in workflow.targets:
        known = ", ".join(sorted(workflow.targets)) or "none"
        raise Invalid(
            FieldError(
                "name",
                N_("%(name)s has no target %(name2)r (targets: %(known)s)"),
                {"name": workflow.name, "name2": name, "known": known},
            )
        )
    current = dict(target_overrides(authority, workflow.name))
    if days is None:
        current.pop(name, None)
    else:
        errors = figure_errors({name: days}, "days")
        if errors:
            raise Invalid(FieldError("days", errors[0].message))
        current[name] = days
    overrides = dict(authority.target_overrides or {})
    overrides[workflow.name] = current
    authority.target_overrides = overrides
    session.flush()
    return current
