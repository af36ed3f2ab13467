"""Forms generated from the workflow: HTML form data in, the services' values out.

Names in HTML are the services' field names (``subject``, ``inputs.grounds``,
``requested_authority``), so an :class:`~mla.errors.Invalid` from a service maps onto the
form with no translation table (:func:`mla.web.boundary.field_messages`). Parsing here is
only about the shape of HTML form data (checkbox lists, repeated person rows, empty strings);
every rule about what is valid stays in the workflow and the services.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from werkzeug.datastructures import MultiDict

from mla.authorities.service import CONTACT_KEYS
from mla.errors import N_, FieldError
from mla.workflow.model import PERSON_KEYS, Field, Input, Workflow

# Blank person rows offered on a new request; a clerk needing more saves and adds more.
PERSON_ROWS = 3


def _value(kind: str, name: str, form: MultiDict[str, str], errors: list[FieldError]) -> Any:
    if kind == "multichoice":
        return [v for v in form.getlist(name) if v] or None
    if kind == "boolean":
        return form.get(name) in ("on", "true", "1", "yes")
    if kind == "persons":
        return _persons(name, form) or None
    if kind == "attachments":  # attachment numbers, typed or ticked
        ids = [v for given in form.getlist(name) for v in given.replace(",", " ").split()]
        if not all(v.isdigit() for v in ids):
            errors.append(FieldError(name, N_("must be attachment numbers")))
            return None
        return [int(v) for v in ids] or None
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            errors.append(FieldError(name, N_("must be a whole number")))
            return None
    return raw


def _persons(name: str, form: MultiDict[str, str]) -> list[dict[str, str]]:
    people: list[dict[str, str]] = []
    for i in range(50):
        row = {k: (form.get(f"{name}-{i}-{k}") or "").strip() for k in PERSON_KEYS}
        if f"{name}-{i}-name" not in form:
            break
        if any(row.values()):
            people.append({k: v for k, v in row.items() if v or k == "name"})
    return people


def draft_fields(wf: Workflow) -> tuple[Field, ...]:
    """The fields a request's drafter fills: all but those later steps record (the date to
    resume a postponed request, the date of an arrest), which the form does not show."""
    later = wf.recorded_by_steps()
    return tuple(f for f in wf.fields if f.name not in later)


def field_values(
    wf: Workflow, form: MultiDict[str, str], fields: tuple[Field, ...] | None = None
) -> tuple[dict[str, Any], list[FieldError]]:
    """The request fields given in ``form`` (blank ones left out) and any shape errors;
    ``fields``: those the form shows (default: all)."""
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    for f in wf.fields if fields is None else fields:
        value = _value(f.type, f.name, form, errors)
        if value is not None and not (f.type == "boolean" and value is False):
            values[f.name] = value
    return values, errors


def input_values(
    inputs: tuple[Input, ...], form: MultiDict[str, str]
) -> tuple[dict[str, Any], list[FieldError]]:
    """A transition's inputs from ``form`` (named ``inputs.<name>``)."""
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    for i in inputs:
        value = _value(i.type, f"inputs.{i.name}", form, errors)
        if value is not None:
            values[i.name] = value
    return values, errors


def arrival(form: MultiDict[str, str]) -> tuple[dict[str, Any], list[FieldError]]:
    """How a step recorded for an authority not on mla arrived: ``received_on`` (a date)
    and ``channel``, those given."""
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    raw = (form.get("received_on") or "").strip()
    if raw:
        try:
            out["received_on"] = date.fromisoformat(raw)
        except ValueError:
            errors.append(FieldError("received_on", "must be a date (YYYY-MM-DD)"))
    if form.get("channel"):
        out["channel"] = form["channel"]
    return out, errors


def draft_header(form: MultiDict[str, str]) -> tuple[dict[str, Any], list[FieldError]]:
    """The columns a draft's editor may change (urgency, date asked for, own reference,
    offence categories, ...)."""
    errors: list[FieldError] = []
    needed_by = None
    raw = (form.get("needed_by") or "").strip()
    if raw:
        try:
            needed_by = date.fromisoformat(raw)
        except ValueError:
            errors.append(FieldError("needed_by", N_("must be a date (YYYY-MM-DD)")))
    header = {
        "urgency": form.get("urgency") or "normal",
        "needed_by": needed_by,
        "needed_by_reason": form.get("needed_by_reason") or None,
        "their_reference": form.get("their_reference") or None,
        "confidential": form.get("confidential") == "on",
        # Checkboxes: none ticked clears them; the service checks the codes.
        "offence_categories": form.getlist("offence_categories"),
    }
    return header, errors


def request_header(form: MultiDict[str, str]) -> tuple[dict[str, Any], list[FieldError]]:
    """The columns every request has (addressee, basis, urgency, date asked for, ...)."""
    header, errors = draft_header(form)
    header = {
        "requested_authority": (form.get("requested_authority") or "").strip(),
        "legal_basis": (form.get("legal_basis") or "").strip(),
        **header,
    }
    if not header["requested_authority"]:
        errors.append(FieldError("requested_authority", N_("is required"), code="required"))
    if not header["legal_basis"]:
        errors.append(FieldError("legal_basis", N_("is required"), code="required"))
    return header, errors


def received_header(
    form: MultiDict[str, str], requested_authority: str
) -> tuple[dict[str, Any], list[FieldError]]:
    """The columns of a request received from a state not on mla, recorded by the clerk of
    ``requested_authority``: who sent it, when and how it arrived, its basis and urgency."""
    header, errors = draft_header(form)
    received_on = None  # none given: the service names the field
    raw = (form.get("received_on") or "").strip()
    if raw:
        try:
            received_on = date.fromisoformat(raw)
        except ValueError:
            errors.append(FieldError("received_on", N_("must be a date (YYYY-MM-DD)")))
    header |= {
        "requesting_authority": (form.get("requesting_authority") or "").strip(),
        "requested_authority": requested_authority,
        "legal_basis": (form.get("legal_basis") or "").strip(),
        "received_on": received_on,
        "channel": form.get("channel") or None,
        "received_as": form.get("received_as") or None,
    }
    if not header["requesting_authority"]:
        errors.append(FieldError("requesting_authority", N_("is required"), code="required"))
    if not header["legal_basis"]:
        errors.append(FieldError("legal_basis", N_("is required"), code="required"))
    return header, errors


def person_rows(f: Field, value: Any) -> list[dict[str, str]]:
    """The rows a persons field shows: what was given plus blank rows to fill."""
    given = [p for p in value if isinstance(p, dict)] if isinstance(value, list) else []
    return given + [{} for _ in range(PERSON_ROWS)]


# Blank contact rows offered under the authority's contact points.
CONTACT_ROWS = 2


def contact_rows(form: MultiDict[str, str]) -> list[dict[str, str]]:
    """The contact points given on the directory form (``contact_points.<i>.<key>``), in order,
    rows left blank dropped; re-rendered as given, so ``contact_points.<i>`` errors line up."""
    rows: list[dict[str, str]] = []
    for i in range(100):
        if f"contact_points.{i}.name" not in form:
            break
        row = {k: (form.get(f"contact_points.{i}.{k}") or "").strip() for k in CONTACT_KEYS}
        if any(row.values()):
            rows.append({k: v for k, v in row.items() if v})
    return rows


def language_codes(raw: str) -> list[str]:
    """'es, en pt' → ['es', 'en', 'pt']."""
    return [c for c in raw.replace(",", " ").split() if c]
