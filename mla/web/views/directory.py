"""The directory for clerks: the authorities ours corresponds with, read-only (each
authority's admin keeps its own entry, under Administration)."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from mla.db import get_session, utcnow
from mla.deadlines import closures
from mla.requests.queries import RequestQueries
from mla.requests.service import Actor
from mla.web.blueprint import bp
from mla.web.boundary import login_required


@bp.get("/directory")
@login_required
def directory(actor: Actor) -> ResponseReturnValue:
    now = utcnow()
    session = get_session()
    authorities = RequestQueries(session, now).correspondents(actor)
    return render_template(
        "directory.html",
        now=now,
        authorities=authorities,
        closures=closures.upcoming_closures(session, authorities, now),
    )
