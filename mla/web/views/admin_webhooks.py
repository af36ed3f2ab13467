"""Admins: the authority's webhook subscriptions, and the notifications that could not be
delivered (to read why, and send again once the cause is fixed)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from mla.authorities.models import Role
from mla.db import get_session
from mla.errors import Conflict, Invalid
from mla.notify.models import WebhookSubscription
from mla.notify.service import NotificationService
from mla.notify.subscriptions import EVENTS, SubscriptionService
from mla.requests.service import Actor
from mla.web import bp, forms
from mla.web.views.auth import login_required


@bp.route("/admin/webhooks", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def admin_webhooks(actor: Actor) -> ResponseReturnValue:
    db = get_session()
    subscriptions = SubscriptionService(db)
    secret = None
    errors: dict[str, list[str]] = {}
    values: dict[str, object] = {"url": "", "events": []}
    if request.method == "POST":
        values = {"url": request.form.get("url", ""), "events": request.form.getlist("events")}
        try:
            _row, secret = subscriptions.add(
                actor, str(values["url"]), request.form.getlist("events") or None
            )
            db.commit()
        except Invalid as exc:
            db.rollback()
            errors = forms.errors_by_field(exc)
        else:
            values = {"url": "", "events": []}
    # The secret is shown once, in this response, and kept only sealed: no redirect here.
    return render_template(
        "admin/webhooks.html",
        subscriptions=subscriptions.list(actor),
        secret=secret,
        errors=errors,
        values=values,
        events=EVENTS,
    ), (422 if errors else 200)


@bp.post("/admin/webhooks/<int:subscription_id>/remove")
@login_required(role=Role.ADMIN)
def remove_webhook(actor: Actor, subscription_id: int) -> ResponseReturnValue:
    db = get_session()
    # NotFound (another authority's, or none) becomes the 404 page: existence is not told.
    removed = SubscriptionService(db).remove(actor, subscription_id)
    db.commit()
    flash(_("Webhook to %(url)s removed.", url=removed.url), "success")
    return redirect(url_for("web.admin_webhooks"), 303)


def _notifications() -> NotificationService:
    return NotificationService(get_session(), current_app.extensions["mla.engines"])


@bp.get("/admin/notifications")
@login_required(role=Role.ADMIN)
def admin_dead_notifications(actor: Actor) -> ResponseReturnValue:
    items = _notifications().dead(actor.authority)
    # The rows are the authority's own, and so are the subscriptions they went to.
    ids = {n.subscription_id for n in items if n.subscription_id is not None}
    targets = {
        s.id: s.url
        for s in get_session().scalars(
            select(WebhookSubscription).where(WebhookSubscription.id.in_(ids))
        )
    }
    return render_template("admin/notifications.html", items=items, targets=targets)


@bp.post("/admin/notifications/<int:notification_id>/resend")
@login_required(role=Role.ADMIN)
def resend_notification(actor: Actor, notification_id: int) -> ResponseReturnValue:
    db = get_session()
    try:
        _notifications().resend(notification_id, actor.authority)
        db.commit()
    except Conflict as exc:
        db.rollback()
        flash(_("Not done: %(reason)s", reason=exc.message), "error")
    else:
        flash(_("Queued to be sent again."), "success")
    return redirect(url_for("web.admin_dead_notifications"), 303)
