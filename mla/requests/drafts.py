"""Editing a request the requesting authority is still preparing (not yet transmitted): the
rules about what may change before transmission. Part of the request service (see
:mod:`mla.requests.service`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from mla.audit import replay
from mla.audit.models import Event, EventKind
from mla.errors import N_, Invalid, Message, NotAllowed
from mla.requests.header import UNSET, Unset, check_header, directory_errors
from mla.requests.models import Request
from mla.requests.recording import RequestContext
from mla.requests.scope import Actor
from mla.workflow.values import field_errors


class RequestDrafts:
    """Editing requests before transmission, over one :class:`RequestContext`."""

    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx

    def editable_reason(self, request: Request, actor: Actor) -> str | None:
        """Why ``actor`` may not edit ``request`` now, or None if they may.

        Editable: not transmitted yet, not closed, in a state the requesting side owns, and
        the actor's own authority is the requesting one (not a clerk recording for an
        external one).
        """
        parties = self.ctx.parties(request, actor)
        if "requesting" not in parties or parties["requesting"] is not None:
            return Message(N_("only the requesting authority edits its request"))
        if request.transmitted_at is not None or request.closed_at is not None:
            return Message(
                N_("the request has been transmitted: its contents can no longer change")
            )
        if self.ctx.engine(request).owner(request.state) != "requesting":
            return Message(N_("the request is with the other side"))
        return None

    def update(
        self,
        request: Request,
        actor: Actor,
        *,
        fields: Mapping[str, Any] | None = None,
        urgency: str | Unset = UNSET,
        needed_by: date | Unset | None = UNSET,
        needed_by_reason: str | Unset | None = UNSET,
        their_reference: str | Unset | None = UNSET,
        confidential: bool | Unset = UNSET,
        offence_categories: list[str] | Unset = UNSET,
        expected_version: int | None = None,
    ) -> Event | None:
        """Change a request its authority is still preparing (not yet transmitted).

        ``fields`` maps field names to new values; None or empty removes a field; fields not
        named keep their value. Header arguments left out keep theirs. Checked like
        creation (types and names; completeness waits for transmission). Guarantees:
        the changes and one ``fields_changed`` history event naming what changed and
        recording the new values are written together, with the running deadlines counted
        from what changed (``needed_by``, an anchor field, a ``when`` field) brought in line;
        nothing is written when nothing changed (returns None).
        Raises NotFound if the actor is no party; Conflict if the request changed since
        ``expected_version`` (naming who and when); NotAllowed once transmitted, for the
        requested or executing side, or in a state the other side owns; Invalid naming each
        bad field.
        """
        given = {
            "urgency": urgency,
            "needed_by": needed_by,
            "needed_by_reason": needed_by_reason,
            "their_reference": their_reference,
            "confidential": confidential,
            "offence_categories": offence_categories,
        }
        ctx = self.ctx
        reference = request.reference
        ctx.party_to(request, actor)
        ctx.lock(request, expected_version)
        reason = self.editable_reason(request, actor)
        if reason is not None:
            raise NotAllowed(reason)

        now = ctx.clock()
        wf = ctx.engine(request).workflow
        header = {k: v for k, v in given.items() if v is not UNSET}
        header_values, errors = check_header(header, now.date(), request)
        columns = {k: v for k, v in header_values.items() if getattr(request, k) != v}
        values = dict(request.fields)
        for name, value in (fields or {}).items():
            if value is None or value == "" or value == []:
                values.pop(name, None)  # blanked on the form: the field is no longer given
            else:
                values[name] = value
        deadlines = ctx.deadlines()
        today = deadlines.calendar(actor.authority).local_date(now)
        errors += field_errors(wf, request.legal_basis, values, partial=True, today=today)
        errors += directory_errors(
            ctx.session, wf, request.requesting_authority, request.requested_authority, values
        )
        if errors:
            raise Invalid(errors)
        edited = {
            n for n in set(values) | set(request.fields) if values.get(n) != request.fields.get(n)
        }
        changed = sorted(edited | set(columns))
        if not changed:
            return None
        counted = deadlines.counted_dues(request, wf)
        if values != request.fields:
            request.fields = values
        for name, value in columns.items():
            setattr(request, name, value)
        request.updated_at = now
        ctx.flush(reference)
        deadlines.on_edit(request, wf, changed, counted, now)
        # The names for a reader of the history; the values (and which fields were removed) so
        # that replaying the history gives the row (mla audit verify).
        data = {
            "fields": changed,
            replay.ROW: replay.recorded(
                ctx.session,
                request,
                columns,
                fields_set={n: values[n] for n in sorted(edited) if n in values},
                fields_removed=[n for n in sorted(edited) if n not in values],
            ),
        }
        return ctx.record(request, EventKind.FIELDS_CHANGED, actor, data, at=now)
