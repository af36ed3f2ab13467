"""The dispatcher: delivers due outbox rows (e-mail, webhooks) after their cause committed.

It takes due rows through the ``next_attempt_at`` index (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so several workers share the outbox), tries each once, and records the outcome:
sent; rescheduled with exponential backoff (:func:`mla.notify.channels.next_retry`); or dead
after a permanent error or the last of :data:`~mla.notify.channels.MAX_ATTEMPTS` tries, for an
admin to read and re-send (``mla notifications list --dead``, ``mla notifications resend``).

Delivery is at least once: a worker that dies after the remote side accepted a message but
before its commit sends it again on the next run. Receivers deduplicate on the stable
``X-MLA-Delivery`` header (webhooks) or ``Message-ID`` (e-mail), both derived from the row.

With ``MLA_SMTP_URL`` unset, e-mail is treated as a retryable failure ("e-mail is off"): it
waits through the usual retries, so setting the URL within hours delivers it, and otherwise
goes dead with that reason where an admin sees it. Nothing is dropped silently.

Run one dispatcher per SQLite database (it has no row locks); any number on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mla.errors import IntegrityError
from mla.notify.channels import DeliveryError, next_retry, post_webhook, send_email
from mla.notify.models import Channel, Notification, Status, WebhookSubscription
from mla.notify.smtp_url import parse_smtp_url
from mla.notify.subscriptions import (
    TargetRefused,
    allow_private_targets,
    open_secret,
    target_addresses,
)


@dataclass(frozen=True)
class DispatchResult:
    taken: int
    sent: int
    retrying: int
    dead: int


def _message_id(row: Notification, sender: str) -> str:
    domain = parseaddr(sender)[1].partition("@")[2] or "mla.localhost"
    return f"<mla-notification-{row.id}-{int(row.created_at.timestamp())}@{domain}>"


def _deliver(session: Session, row: Notification, settings: Mapping[str, Any]) -> None:
    """Deliver ``row`` once; raise DeliveryError saying whether trying again may help."""
    if row.channel == Channel.IN_APP:
        return  # the bell reads the table: nothing to send
    if row.channel == Channel.EMAIL:
        url = settings.get("MLA_SMTP_URL")
        if not url:
            raise DeliveryError("e-mail is off: MLA_SMTP_URL is not set", retryable=True)
        if not row.address:
            raise DeliveryError("the recipient has no e-mail address", retryable=False)
        sender = settings.get("MLA_MAIL_FROM") or "mla@localhost"
        send_email(
            parse_smtp_url(url),
            sender=sender,
            to=[row.address],
            subject=row.subject or "",
            text_body=str((row.payload or {}).get("text", "")),
            message_id=_message_id(row, sender),
        )
        return
    subscription = (
        session.get(WebhookSubscription, row.subscription_id) if row.subscription_id else None
    )
    if subscription is None or not subscription.active:
        raise DeliveryError("the webhook subscription was removed", retryable=False)
    try:
        addresses = target_addresses(
            subscription.url,
            allow_private=allow_private_targets(settings.get("MLA_WEBHOOK_ALLOW_PRIVATE")),
        )
    except TargetRefused as refused:
        raise DeliveryError(f"webhook URL {refused.reason}", retryable=refused.retryable) from None
    try:
        secret = open_secret(
            subscription.secret_sealed, subscription.authority_id, settings.get("MLA_SECRET_KEY")
        )
    except IntegrityError as exc:
        raise DeliveryError(str(exc), retryable=False) from None
    body = json.dumps(row.payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    post_webhook(
        subscription.url,
        secret,
        event_type=row.event,
        delivery_id=f"mla-{row.id}",
        body=body.encode(),
        addresses=addresses,
    )


def dispatch(
    session: Session, settings: Mapping[str, Any], now: datetime, batch: int = 50
) -> DispatchResult:
    """Try every pending message due at ``now``, at most ``batch`` of them, oldest due first.

    ``settings`` are the app's (``MLA_SMTP_URL``, ``MLA_MAIL_FROM``, ``MLA_SECRET_KEY``,
    optionally ``MLA_WEBHOOK_ALLOW_PRIVATE``). Flushes; the caller commits, which also
    releases the rows to other dispatchers. Never raises for a failed delivery: the error is
    stored in ``last_error``.
    """
    query = (
        select(Notification)
        .where(Notification.next_attempt_at <= now, Notification.status == Status.PENDING)
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Notification)
    rows = list(session.scalars(query))
    sent = retrying = dead = 0
    for row in rows:
        row.attempts += 1
        error: DeliveryError | None = None
        try:
            _deliver(session, row, settings)
        except DeliveryError as exc:
            error = exc
        except Exception as exc:  # a poison message must not block the rest of the outbox
            error = DeliveryError(f"unexpected {type(exc).__name__}: {exc}", retryable=True)
        if error is not None:
            row.last_error = str(error)[:2000]
            delay = next_retry(row.attempts, error)
            if delay is None:
                row.status = Status.DEAD
                row.next_attempt_at = None
                dead += 1
            else:
                row.next_attempt_at = now + delay
                retrying += 1
        else:
            row.status = Status.SENT
            row.sent_at = now
            row.next_attempt_at = None
            row.last_error = None
            sent += 1
        session.flush()
    return DispatchResult(len(rows), sent, retrying, dead)
