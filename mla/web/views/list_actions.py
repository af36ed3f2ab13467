"""What the request list does to every request it shows: download them as CSV, and (for
supervisors) assign the ones ticked."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from flask import Response, flash, redirect, request, stream_with_context, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from mla.app_services import request_service
from mla.authorities.models import Role
from mla.db import get_session, parse_id, utcnow
from mla.errors import FieldError, Invalid
from mla.requests.models import Request
from mla.requests.queries import Page, RequestQueries
from mla.requests.service import Actor
from mla.web.blueprint import bp
from mla.web.boundary import login_required
from mla.web.views.common import WorkflowLabels, workflow_labels
from mla.web.views.requests import list_filter

# Rows read per query while the CSV streams: each batch is one keyset page of the list.
EXPORT_BATCH = 500
# A cell a spreadsheet would read as a formula (or as the start of one) when it begins so.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(value: Any) -> str:
    """``value`` as a CSV cell that no spreadsheet runs: text starting like a formula gets a
    leading apostrophe (OWASP, "CSV Injection"), as a person would type it to mean text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _header() -> list[str]:
    return [
        _("Reference"),
        _("Their reference"),
        _("Kind"),
        _("State"),
        _("Held by"),
        _("Requesting"),
        _("Requested"),
        _("Executing"),
        _("Urgency"),
        _("Assigned to"),
        _("Overdue"),
        _("Opened (UTC)"),
        _("Last change (UTC)"),
    ]


def _row(r: Request, page: Page, wf: WorkflowLabels, own: int) -> list[str]:
    assignee = r.assignee_for(own)  # the caller's own authority's: never another's staff
    return [
        neutral(v)
        for v in (
            r.reference,
            r.their_reference,
            wf.kind(r.kind),
            wf.state(r),
            r.holder_authority.code,
            r.requesting_authority.code,
            r.requested_authority.code,
            r.executing_authority.code if r.executing_authority else "",
            _("Urgent") if r.urgency.value == "urgent" else _("Normal"),
            assignee.username if assignee else "",
            _("yes") if r.id in page.overdue_ids else "",
            r.created_at.isoformat(timespec="seconds"),
            r.updated_at.isoformat(timespec="seconds"),
        )
    ]


def _line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


@bp.get("/requests.csv")
@login_required(back="web.request_list")
def request_csv(actor: Actor) -> ResponseReturnValue:
    """Every request of the list's filter that the actor may see, in the list's order, as
    CSV. It streams: one keyset page of the list per query, each page let go once written."""
    flt = list_filter(request.args)
    now = utcnow()
    # Asked here, inside the boundary: a bad filter is refused as the list refuses it,
    # before a byte is sent.
    RequestQueries(get_session(), now).list(actor, flt, limit=1)
    wf = workflow_labels()

    def lines() -> Iterator[str]:
        # The view's unit of work has ended by now (its session is closed): the rows are
        # read in a session of their own, closed when the download ends.
        session = get_session()
        q = RequestQueries(session, now)
        # Held while the file streams: each row's assignee is found in the session.
        _staff = q.colleagues(actor)
        yield "\ufeff" + _line(_header())  # the BOM: spreadsheets then read UTF-8 as such
        page = q.list(actor, flt, limit=EXPORT_BATCH)
        while True:
            for r in page.rows:
                yield _line(_row(r, page, wf, actor.authority.id))
                session.expunge(r)  # a million rows must not stay in the session
            if page.next_cursor is None:
                return
            page = q.list(actor, flt, cursor=page.next_cursor, limit=EXPORT_BATCH)

    stamp = now.strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(lines()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="requests-{actor.authority.code}-'
            f'{stamp}.csv"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _safe_next(target: str | None) -> str:
    """Back to the list page the form was on (its filter and page), never elsewhere."""
    if target and target.startswith("/requests") and not target.startswith("//"):
        return target
    return url_for("web.request_list")


@bp.post("/requests/assign")
@login_required(role=Role.SUPERVISOR, back="web.request_list")
def bulk_assign(actor: Actor) -> ResponseReturnValue:
    raw = request.form.get("assignee", "")
    assignee_id = parse_id(raw)
    if raw and assignee_id is None:
        raise Invalid(FieldError("assignee", "must be a user id"))
    events = request_service().assign_many(actor, request.form.getlist("reference"), assignee_id)
    to = events[0].data["to"]
    if to:
        flash(
            ngettext(
                "%(num)d request assigned to %(user)s.",
                "%(num)d requests assigned to %(user)s.",
                len(events),
                user=to,
            ),
            "success",
        )
    else:
        flash(
            ngettext(
                "%(num)d request now assigned to nobody.",
                "%(num)d requests now assigned to nobody.",
                len(events),
            ),
            "success",
        )
    return redirect(_safe_next(request.form.get("next")), 303)
