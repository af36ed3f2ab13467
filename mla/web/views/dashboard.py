"""The dashboard: what is due, what is late, what is ours to do next and by when, what we
chase on the other side, what changed there."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from mla.app_services import request_service
from mla.db import get_session, utcnow
from mla.requests.dashboard import DashboardQueries
from mla.requests.service import Actor
from mla.web.blueprint import bp
from mla.web.boundary import login_required
from mla.web.views.common import workflow_labels

QUEUE_PAGE = 50
WAITING_PAGE = 20
# The latest changes from the other side shown; past them the page says "20+" rather than
# counting them all.
RECENT = 20


def page_number(name: str) -> int:
    """The page of the dashboard's section ``name`` asked for (``?queue=2``); 1 if none."""
    asked = request.args.get(name, type=int)
    return asked if asked is not None and asked > 1 else 1


@bp.get("/")
@login_required
def dashboard(actor: Actor) -> ResponseReturnValue:
    now = utcnow()
    q = DashboardQueries(get_session(), now)
    queue_page, waiting_page = page_number("queue"), page_number("waiting")
    queue, queue_count = q.worklist(actor, (queue_page - 1) * QUEUE_PAGE, QUEUE_PAGE)
    svc = request_service()
    # From the workflow definition alone: no query per row.
    steps = {row.request.id: svc.next_steps(row.request, actor) for row in queue}
    # The authority's users, read once and held while the page renders: the rows'
    # assignees are then found in the session (its identity map holds them weakly).
    _staff = q.colleagues(actor)
    waiting, waiting_count = q.awaiting_others(
        actor, (waiting_page - 1) * WAITING_PAGE, WAITING_PAGE
    )
    due = q.deadlines_due(actor)
    recent = q.recent_from_others(actor, limit=RECENT + 1)  # one more: are there more?
    return render_template(
        "dashboard.html",
        now=now,
        queue=queue,
        queue_count=queue_count,
        queue_page=queue_page,
        queue_size=QUEUE_PAGE,
        steps=steps,
        waiting=waiting,
        waiting_count=waiting_count,
        waiting_page=waiting_page,
        waiting_size=WAITING_PAGE,
        overdue=due.overdue,
        overdue_count=due.overdue_count,
        due_soon=due.due_soon,
        due_count=due.due_soon_count,
        recent=recent[:RECENT],
        recent_more=len(recent) > RECENT,
        wf=workflow_labels(),
    )
