"""Editing a request the requesting authority is still preparing (see RequestService.update).

Kept apart from :mod:`mla.requests.service` so that the rules about what may change before
transmission sit together; the service's ``update`` method is the entry point.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from mla.audit import chain, replay
from mla.audit.models import Event, EventKind
from mla.deadlines.service import Clocks
from mla.errors import Conflict, FieldError, Invalid, NotAllowed, NotFound
from mla.requests import creation
from mla.requests.models import OffenceCategory, Request, Urgency
from mla.workflow.values import field_errors

if TYPE_CHECKING:
    from mla.requests.service import Actor, RequestService


class Unset:
    """Marks an argument not given, where None is a meaningful value ("no date")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset()


def editable_reason(svc: RequestService, request: Request, actor: Actor) -> str | None:
    """Why ``actor`` may not edit ``request`` now, or None if they may.

    Editable: not transmitted yet, not closed, in a state the requesting side owns, and the
    actor's own authority is the requesting one (not a clerk recording for an external one).
    """
    parties = svc.parties(request, actor)
    if "requesting" not in parties or parties["requesting"] is not None:
        return "only the requesting authority edits its request"
    if request.transmitted_at is not None or request.closed_at is not None:
        return "the request has been transmitted: its contents can no longer change"
    if svc.engine(request).owner(request.state) != "requesting":
        return "the request is with the other side"
    return None


def check_header(
    changes: Mapping[str, Any], today: date, current: Request | None = None
) -> tuple[dict[str, Any], list[FieldError]]:
    """The header columns given in ``changes`` (urgency, their reference, confidentiality,
    the date needed and its reason, the offence categories), normalized, and what is wrong
    with them. ``current``: the request being edited, whose values stand for those not given.
    Creation and editing both check a header here."""
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    if "urgency" in changes:
        try:
            out["urgency"] = Urgency(changes["urgency"])
        except ValueError:
            errors.append(FieldError("urgency", "must be normal or urgent"))
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
        unknown = [c for c in given if c not in known]
        if isinstance(given, str) or unknown:
            errors.append(
                FieldError("offence_categories", f"must be a list of {', '.join(OffenceCategory)}")
            )
        else:
            # Stored in the closed list's order, once each: equal sets compare equal.
            out["offence_categories"] = [c.value for c in OffenceCategory if c.value in given]
    needed_by = out.get("needed_by", current.needed_by if current else None)
    reason = out.get("needed_by_reason", current.needed_by_reason if current else None)
    # Only a date being set now must be in the future: an old one kept unchanged is not news.
    if "needed_by" in out and needed_by is not None and needed_by < today:
        errors.append(FieldError("needed_by", "must not be in the past"))
    if needed_by is not None and not reason:
        errors.append(FieldError("needed_by_reason", "give the reason for the date (18.24)"))
    return out, errors


def update(
    svc: RequestService,
    request: Request,
    actor: Actor,
    *,
    fields: Mapping[str, Any] | None,
    expected_version: int | None,
    header: dict[str, Any],
) -> Event | None:
    """See :meth:`mla.requests.service.RequestService.update`."""
    reference = request.reference
    if not svc.parties(request, actor):
        raise NotFound(f"no request {reference}")
    svc.lock(request, expected_version)
    reason = editable_reason(svc, request, actor)
    if reason is not None:
        raise NotAllowed(reason)

    now = svc.clock()
    wf = svc.engine(request).workflow
    header_values, errors = check_header(header, now.date(), request)
    columns = {k: v for k, v in header_values.items() if getattr(request, k) != v}
    values = dict(request.fields)
    for name, value in (fields or {}).items():
        if value is None or value == "" or value == []:
            values.pop(name, None)  # blanked on the form: the field is no longer given
        else:
            values[name] = value
    today = Clocks(svc.session).calendar(actor.authority).local_date(now)
    errors += field_errors(wf, request.legal_basis, values, partial=True, today=today)
    errors += creation.directory_errors(
        svc.session, wf, request.requesting_authority, request.requested_authority, values
    )
    if errors:
        raise Invalid(errors)
    edited = {
        n for n in set(values) | set(request.fields) if values.get(n) != request.fields.get(n)
    }
    changed = sorted(edited | set(columns))
    if not changed:
        return None
    clocks = Clocks(svc.session)
    counted = clocks.counted_dues(request, wf)
    if values != request.fields:
        request.fields = values
    for name, value in columns.items():
        setattr(request, name, value)
    request.updated_at = now
    try:
        svc.session.flush()
    except (StaleDataError, OperationalError) as exc:
        raise Conflict(f"{reference} was changed by someone else at the same time") from exc
    clocks.on_edit(request, wf, changed, counted, now)
    # The names for a reader of the history; the values (and which fields were removed) so
    # that replaying the history gives the row (mla audit verify).
    return chain.append(
        svc.session,
        request,
        EventKind.FIELDS_CHANGED,
        actor_user_id=actor.user_id,
        actor_authority_id=actor.authority.id,
        data={
            "fields": changed,
            replay.ROW: replay.recorded(
                svc.session,
                request,
                columns,
                fields_set={n: values[n] for n in sorted(edited) if n in values},
                fields_removed=[n for n in sorted(edited) if n not in values],
            ),
        },
        at=now,
    )
