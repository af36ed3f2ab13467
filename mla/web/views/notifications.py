"""The notifications bell: the count in the header, the list of unread messages (newest first,
in the reader's current language), opening one (which marks it read), marking read.

The messages are written by :mod:`mla.notify.service` (state changes that hand a request to
this authority, escalation steps); this page only reads them and records that they were read.
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from mla.app_services import notification_service
from mla.db import parse_id
from mla.notify.inbox import text_in
from mla.notify.service import NotificationService
from mla.requests.service import Actor
from mla.web.blueprint import bp
from mla.web.boundary import login_required


def _service() -> NotificationService:
    return notification_service()


@bp.app_context_processor
def _bell() -> dict[str, object]:
    def unread_count() -> int:
        # Lazy: only pages that show the header for a signed-in user pay for the query.
        user = g.get("user")
        return _service().unread_count(user) if user is not None else 0

    return {"unread_count": unread_count}


@bp.get("/notifications")
@login_required
def notifications(actor: Actor) -> ResponseReturnValue:
    assert actor.user is not None  # login_required: a signed-in user
    lang = str(get_locale() or "en")
    items = [(n, text_in(n, lang)) for n in _service().unread(actor.user)]
    return render_template("notifications.html", items=items)


@bp.get("/notifications/<int:notification_id>/open")
@login_required(writes=True)  # opening one marks it read
def open_notification(actor: Actor, notification_id: int) -> ResponseReturnValue:
    assert actor.user is not None
    # Another user's id changes nothing and leads to the list, as one that links nowhere.
    link = _service().open(actor.user, notification_id)
    return redirect(link or url_for("web.notifications"), 303)


@bp.post("/notifications/read")
@login_required
def mark_read(actor: Actor) -> ResponseReturnValue:
    assert actor.user is not None
    ids = [n for n in map(parse_id, request.form.getlist("ids")) if n is not None]
    # Another user's ids are ignored by the service without saying so: nothing leaks.
    done = _service().mark_read(actor.user, ids)
    if done:
        flash(_("Marked as read."), "success")
    return redirect(url_for("web.notifications"), 303)
