"""The dashboard: what is due, what is late, what is mine, what changed on the other side."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from mla.db import get_session, utcnow
from mla.requests.queries import RequestQueries
from mla.requests.service import Actor
from mla.web.blueprint import bp
from mla.web.boundary import login_required
from mla.web.views.common import workflow_labels


@bp.get("/")
@login_required
def dashboard(actor: Actor) -> ResponseReturnValue:
    now = utcnow()
    q = RequestQueries(get_session(), now)
    queue, queue_count = q.queue(actor)
    overdue, overdue_count = q.overdue(actor)
    due_soon, due_count = q.due_soon(actor)
    recent = q.recent_from_others(actor)
    return render_template(
        "dashboard.html",
        now=now,
        queue=queue,
        queue_count=queue_count,
        overdue=overdue,
        overdue_count=overdue_count,
        due_soon=due_soon,
        due_count=due_count,
        recent=recent,
        wf=workflow_labels(),
    )
