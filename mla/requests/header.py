"""The rules creating and editing a request share: its header columns (urgency, their
reference, confidentiality, the date needed and why) and what the directory says about its
fields. No session state beyond reading the directory; nothing here writes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from sqlalchemy.orm import Session

from mla.authorities.models import Authority
from mla.authorities.treaties import get_treaty
from mla.errors import N_, FieldError, NotFound
from mla.requests.models import OffenceCategory, Request, Urgency
from mla.workflow.model import Workflow

# How a request, or a step of it, from a state not on mla arrives (LEGAL.md "Requests from
# states not on the system").
CHANNELS = ("diplomatic_note", "email", "courier", "interpol", "post")


class Unset:
    """Marks an argument not given, where None is a meaningful value ("no date")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset()


def check_header(
    changes: Mapping[str, Any], today: date, current: Request | None = None
) -> tuple[dict[str, Any], list[FieldError]]:
    """The header columns given in ``changes`` (urgency, their reference, confidentiality,
    the date needed and its reason, the offence categories), normalized, and what is wrong
    with them. ``current``: the request being edited, whose values stand for those not
    given."""
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    if "urgency" in changes:
        try:
            out["urgency"] = Urgency(changes["urgency"])
        except ValueError:
            errors.append(FieldError("urgency", N_("must be normal or urgent")))
    if "their_reference" in changes:
        out["their_reference"] = (changes["their_reference"] or "").strip() or None
    if "confidential" in changes:
        out["confidential"] = bool(changes["confidential"])
    if "needed_by_reason" in changes:
        out["needed_by_reason"] = (changes["needed_by_reason"] or "").strip() or None
    if "needed_by" in changes:
        out["needed_by"] = changes["needed_by"]
    if "offence_categories" in changes:
        given = changes["offence_categories"] or []
        known = {c.value for c in OffenceCategory}
        if isinstance(given, str) or any(c not in known for c in given):
            errors.append(
                FieldError(
                    "offence_categories",
                    N_("must be a list of %(OffenceCategory)s"),
                    {"OffenceCategory": ", ".join(OffenceCategory)},
                )
            )
        else:
            # Stored in the closed list's order, once each: equal sets compare equal.
            out["offence_categories"] = [c.value for c in OffenceCategory if c.value in given]
    needed_by = out.get("needed_by", current.needed_by if current else None)
    reason = out.get("needed_by_reason", current.needed_by_reason if current else None)
    # Only a date being set now must be in the future: an old one kept unchanged is not news.
    if "needed_by" in out and needed_by is not None and needed_by < today:
        errors.append(FieldError("needed_by", N_("must not be in the past")))
    if needed_by is not None and not reason:
        errors.append(FieldError("needed_by_reason", N_("give the reason for the date (18.24)")))
    return out, errors


def directory_errors(
    session: Session,
    wf: Workflow,
    requesting: Authority,
    requested: Authority,
    values: Mapping[str, Any],
) -> list[FieldError]:
    """What the directory says is wrong with ``values``: a ``language`` field the requested
    authority does not accept (18.14), a ``treaty`` field naming no treaty, or one that does
    not bind the two parties' states. Fields of other types are left to ``field_errors``."""
    errors: list[FieldError] = []
    for f in wf.fields:
        value = values.get(f.name)
        if not isinstance(value, str) or not value:
            continue
        if f.type == "language" and requested.languages and value not in requested.languages:
            errors.append(
                FieldError(
                    f.name,
                    N_("%(code)s accepts requests in %(languages)s, not %(value)r (18.14)"),
                    {
                        "code": requested.code,
                        "languages": ", ".join(requested.languages),
                        "value": value,
                    },
                )
            )
        elif f.type == "treaty":
            try:
                treaty = get_treaty(session, value)
            except NotFound:
                errors.append(
                    FieldError(f.name, N_("no treaty %(value)r in the directory"), {"value": value})
                )
                continue
            if not treaty.between(requesting.country, requested.country):
                errors.append(
                    FieldError(
                        f.name,
                        N_(
                            "treaty %(code)s binds %(state_a)s and %(state_b)s, not %(country)s "
                            "and %(country2)s"
                        ),
                        {
                            "code": treaty.code,
                            "state_a": treaty.state_a,
                            "state_b": treaty.state_b,
                            "country": requesting.country,
                            "country2": requested.country,
                        },
                    )
                )
    return errors
