"""Admins: the authority's webhook subscriptions, and the notifications that could not be
delivered (to read why, and send again once the cause is fixed)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from mla.app_services import notification_service, subscription_service
from mla.authorities.models import Role
from mla.db import get_session
from mla.notify.models import WebhookSubscription
from mla.notify.service import NotificationService
from mla.notify.subscriptions import EVENTS
from mla.requests.service import Actor
from mla.web import boundary
from mla.web.blueprint import bp
from mla.web.boundary import login_required


def _webhooks_page(
    actor: Actor,
    values: dict[str, object],
    errors: dict[str, list[str]],
    secret: str | None = None,
) -> ResponseReturnValue:
    return render_template(
        "admin/webhooks.html",
        subscriptions=subscription_service().list(actor),
        secret=secret,
        errors=errors,
        values=values,
        events=EVENTS,
    )


@bp.route("/admin/webhooks", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def admin_webhooks(actor: Actor) -> ResponseReturnValue:
    empty: dict[str, object] = {"url": "", "events": []}
    if request.method == "GET":
        return _webhooks_page(actor, empty, {})
    url, events = request.form.get("url", ""), request.form.getlist("events")
    boundary.form(
        lambda errors, _exc: _webhooks_page(actor, {"url": url, "events": events}, errors)
    )
    _row, secret = subscription_service().add(actor, url, events or None)
    # The secret is shown once, in this response, and kept only sealed: no redirect here.
    return _webhooks_page(actor, empty, {}, secret)


@bp.post("/admin/webhooks/<int:subscription_id>/remove")
@login_required(role=Role.ADMIN)
def remove_webhook(actor: Actor, subscription_id: int) -> ResponseReturnValue:
    # NotFound (another authority's, or none) becomes the 404 page: existence is not told.
    removed = subscription_service().remove(actor, subscription_id)
    flash(_("Webhook to %(url)s removed.", url=removed.url), "success")
    return redirect(url_for("web.admin_webhooks"), 303)


def _notifications() -> NotificationService:
    return notification_service()


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
@login_required(role=Role.ADMIN, back="web.admin_dead_notifications")
def resend_notification(actor: Actor, notification_id: int) -> ResponseReturnValue:
    _notifications().resend(notification_id, actor.authority)
    flash(_("Queued to be sent again."), "success")
    return redirect(url_for("web.admin_dead_notifications"), 303)
