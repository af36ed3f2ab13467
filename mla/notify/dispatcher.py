"""The dispatcher: delivers due outbox rows (e-mail, webhooks) after their cause committed.

A pass claims due rows through the ``next_attempt_at`` index and commits the claim, then
sends outside any transaction, then records each outcome in a short transaction of its own:
sent; rescheduled with exponential backoff (:func:`mla.notify.channels.next_retry`); or dead
after a permanent error or the last of :data:`~mla.notify.channels.MAX_ATTEMPTS` tries, for an
admin to read and re-send (``mla notifications list --dead``, ``mla notifications resend``).

Claiming counts the attempt and moves the row's ``next_attempt_at`` a :data:`LEASE` ahead, so
no other dispatcher takes it meanwhile: on PostgreSQL under ``FOR UPDATE SKIP LOCKED``, on
SQLite under ``BEGIN IMMEDIATE``, which lets one claimer at a time in. Any number of
dispatchers may share an outbox, on either database, and no database lock is held while a
remote server answers.

Delivery is at least once: a dispatcher that dies after the remote side accepted a message but
before recording it leaves the row claimed; when the lease runs out, the message is sent
again. Receivers deduplicate on the stable ``X-MLA-Delivery`` header (webhooks) or
``Message-ID`` (e-mail), both derived from the row.

With ``MLA_SMTP_URL`` unset, e-mail is treated as a retryable failure ("e-mail is off"): it
waits through the usual retries, so setting the URL within hours delivers it, and otherwise
goes dead with that reason where an admin sees it. Nothing is dropped silently.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from mla.db import begin_write
from mla.errors import IntegrityError
from mla.notify.channels import (
    DeliveryError,
    TargetRefused,
    next_retry,
    post_webhook,
    send_email,
)
from mla.notify.models import Channel, Notification, Status, WebhookSubscription
from mla.notify.smtp_url import parse_smtp_url
from mla.notify.subscriptions import (
    allow_private_targets,
    open_secret,
    target_addresses,
)

log = logging.getLogger("mla.notify")


@dataclass(frozen=True)
class DispatchResult:
    taken: int
    sent: int
    retrying: int
    dead: int


#: How long a claimed message is its dispatcher's, after which another may send it again: well
#: beyond a batch of 50 at the 10-second webhook timeout. (A batch held up longer, e.g. by a
#: long SMTP timeout, may then see a message sent twice: still at least once, deduplicated.)
LEASE = timedelta(minutes=15)


@dataclass(frozen=True)
class _Target:
    """What a webhook delivery needs of its subscription, read when the message is claimed."""

    url: str
    secret_sealed: bytes
    authority_id: int


@dataclass(frozen=True)
class _Claimed:
    """A claimed message, as plain values: it is sent with no session or transaction open."""

    id: int
    channel: Channel
    event: str
    address: str | None
    subject: str | None
    payload: dict[str, Any]
    created_at: datetime
    attempts: int
    target: _Target | None


def _message_id(message: _Claimed, sender: str) -> str:
    domain = parseaddr(sender)[1].partition("@")[2] or "mla.localhost"
    return f"<mla-notification-{message.id}-{int(message.created_at.timestamp())}@{domain}>"


def _deliver(message: _Claimed, settings: Mapping[str, Any]) -> None:
    """Deliver ``message`` once; raise DeliveryError saying whether trying again may help."""
    if message.channel == Channel.EMAIL:
        url = settings.get("MLA_SMTP_URL")
        if not url:
            raise DeliveryError("e-mail is off: MLA_SMTP_URL is not set", retryable=True)
        if not message.address:
            raise DeliveryError("the recipient has no e-mail address", retryable=False)
        sender = settings.get("MLA_MAIL_FROM") or "mla@localhost"
        send_email(
            parse_smtp_url(url),
            sender=sender,
            to=[message.address],
            subject=message.subject or "",
            text_body=str((message.payload or {}).get("text", "")),
            message_id=_message_id(message, sender),
        )
        return
    target = message.target
    if target is None:
        raise DeliveryError("the webhook subscription was removed", retryable=False)
    try:
        addresses = target_addresses(
            target.url,
            allow_private=allow_private_targets(settings.get("MLA_WEBHOOK_ALLOW_PRIVATE")),
        )
    except TargetRefused as refused:
        raise DeliveryError(f"webhook URL {refused.reason}", retryable=refused.retryable) from None
    try:
        secret = open_secret(
            target.secret_sealed, target.authority_id, settings.get("MLA_SECRET_KEY")
        )
    except IntegrityError as exc:
        raise DeliveryError(str(exc), retryable=False) from None
    body = json.dumps(message.payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    post_webhook(
        target.url,
        secret,
        event_type=message.event,
        delivery_id=f"mla-{message.id}",
        body=body.encode(),
        addresses=addresses,
    )


def _claim(session: Session, now: datetime, batch: int) -> list[_Claimed]:
    """Claim up to ``batch`` due messages and commit; return them. (In-app messages are
    written sent: the bell reads the table, and they never come here.)"""
    begin_write(session)
    query = (
        select(Notification)
        .where(Notification.next_attempt_at <= now, Notification.status == Status.PENDING)
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Notification)
    claimed: list[_Claimed] = []
    for row in session.scalars(query).all():
        row.attempts += 1
        row.next_attempt_at = now + LEASE
        subscription = (
            session.get(WebhookSubscription, row.subscription_id) if row.subscription_id else None
        )
        target = (
            _Target(subscription.url, subscription.secret_sealed, subscription.authority_id)
            if subscription is not None and subscription.active
            else None
        )
        claimed.append(
            _Claimed(
                row.id, row.channel, row.event, row.address, row.subject, row.payload,
                row.created_at, row.attempts, target,
            )
        )  # fmt: skip
    session.commit()
    return claimed


def _record(
    session: Session, message: _Claimed, error: DeliveryError | None, now: datetime
) -> Status | None:
    """Store the outcome of one attempt at ``message``, in a transaction of its own, if the
    claim is still this dispatcher's; None when it is not (the lease ran out and another
    dispatcher claimed the message again: its outcome is the one that counts)."""
    values: dict[str, Any]
    if error is None:
        status, values = Status.SENT, {"sent_at": now, "next_attempt_at": None, "last_error": None}
    else:
        delay = next_retry(message.attempts, error)
        status = Status.DEAD if delay is None else Status.PENDING
        values = {
            "next_attempt_at": None if delay is None else now + delay,
            "last_error": str(error)[:2000],
        }
    begin_write(session)
    result = session.execute(
        update(Notification)
        .where(
            Notification.id == message.id,
            Notification.status == Status.PENDING,
            Notification.attempts == message.attempts,
        )
        .values(status=status, **values)
        .execution_options(synchronize_session="evaluate")
    )
    session.commit()
    return status if result.rowcount == 1 else None  # type: ignore[attr-defined]


def _release(session: Session, messages: Sequence[_Claimed], now: datetime) -> None:
    """Hand back claimed messages that were not tried: due now, the attempt not counted."""
    begin_write(session)
    for message in messages:
        session.execute(
            update(Notification)
            .where(
                Notification.id == message.id,
                Notification.status == Status.PENDING,
                Notification.attempts == message.attempts,
            )
            .values(next_attempt_at=now, attempts=message.attempts - 1)
            .execution_options(synchronize_session="evaluate")
        )
    session.commit()


def dispatch(
    session: Session, settings: Mapping[str, Any], now: datetime, batch: int = 50
) -> DispatchResult:
    """Try the pending messages due at ``now``, at most ``batch`` of them, oldest due first.

    ``settings`` are the app's (``MLA_SMTP_URL``, ``MLA_MAIL_FROM``, ``MLA_SECRET_KEY``,
    optionally ``MLA_WEBHOOK_ALLOW_PRIVATE``). Commits the claim and then each outcome; the
    session must not hold uncommitted work. Outcomes are stamped ``now`` plus the time the
    pass has taken. A pass that has used half the lease hands the rest of its claim back.
    Never raises for a failed delivery (the error is stored in ``last_error``), nor for a
    failure to record one (logged; the message is sent again when its lease ends).
    """
    claimed = _claim(session, now, batch)
    started = time.monotonic()
    sent = retrying = dead = 0
    done = 0
    try:
        for message in claimed:
            elapsed = timedelta(seconds=time.monotonic() - started)
            if elapsed >= LEASE / 2:
                break
            error: DeliveryError | None = None
            try:
                _deliver(message, settings)
            except DeliveryError as exc:
                error = exc
            except Exception as exc:  # a poison message must not block the rest of the outbox
                error = DeliveryError(f"unexpected {type(exc).__name__}: {exc}", retryable=True)
            done += 1
            at = now + timedelta(seconds=time.monotonic() - started)
            try:
                status = _record(session, message, error, at)
            except SQLAlchemyError:
                session.rollback()
                log.exception("could not record the outcome of notification %s", message.id)
                continue
            sent += status == Status.SENT
            retrying += status == Status.PENDING
            dead += status == Status.DEAD
    finally:
        if done < len(claimed):
            try:
                _release(session, claimed[done:], now)
            except SQLAlchemyError:
                session.rollback()
                log.exception("could not hand back %d claimed notifications", len(claimed) - done)
    return DispatchResult(len(claimed), sent, retrying, dead)
