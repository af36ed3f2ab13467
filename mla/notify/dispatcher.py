"""The dispatcher: delivers due outbox rows (e-mail, webhooks) after their cause committed.

A pass claims due rows through the ``next_attempt_at`` index and commits the claim, then
sends outside any transaction, then records each outcome in a short transaction of its own:
sent; rescheduled with exponential backoff (:func:`mla.notify.channels.next_retry`); or dead
after a permanent error or the last of :data:`~mla.notify.channels.MAX_ATTEMPTS` tries, for an
admin to read and re-send (``mla notifications list --dead``, ``mla notifications resend``).

A pass claims in turns across authorities, delivers up to ``MLA_DELIVERY_WORKERS`` messages at
once, each within ``MLA_DELIVERY_TIMEOUT`` seconds, and hands back what it has not started when
its time is up (the worker gives each pass a time limit so that the sweep is never held up).

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
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from mla.config import parse_smtp_url
from mla.db import begin_write
from mla.errors import IntegrityError
from mla.keyring import Keyring
from mla.notify.channels import (
    DEFAULT_BUDGET,
    DeliveryError,
    TargetRefused,
    next_retry,
    post_webhook,
    send_email,
)
from mla.notify.models import Channel, Notification, Status, WebhookSubscription
from mla.notify.subscriptions import (
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


#: How long a claimed message is its dispatcher's, after which another may send it again: a
#: pass hands back what it has not started after half of it, and an attempt is cut off after
#: MLA_DELIVERY_TIMEOUT (at most 10 minutes), so an outcome is recorded within the lease.
LEASE = timedelta(minutes=15)

#: Deliveries at once when MLA_DELIVERY_WORKERS is not given.
DEFAULT_WORKERS = 8


@dataclass(frozen=True)
class _Target:
    """What a webhook delivery needs of its subscription, read when the message is claimed."""

    url: str
    secret_sealed: bytes
    secret_key_id: str | None
    secret_wrapped_key: bytes | None
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


def _budget(settings: Mapping[str, Any]) -> float:
    return float(settings.get("MLA_DELIVERY_TIMEOUT") or DEFAULT_BUDGET)


def _deliver(message: _Claimed, settings: Mapping[str, Any], keyring: Keyring | None) -> None:
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
            budget=_budget(settings),
        )
        return
    target = message.target
    if target is None:
        raise DeliveryError("the webhook subscription was removed", retryable=False)
    try:
        addresses = target_addresses(
            target.url,
            allow_private=bool(settings.get("MLA_WEBHOOK_ALLOW_PRIVATE")),
        )
    except TargetRefused as refused:
        raise DeliveryError(f"webhook URL {refused.reason}", retryable=refused.retryable) from None
    if keyring is None:  # dispatch opens one whenever it claims a webhook
        raise DeliveryError("no keyring to open the webhook secret with", retryable=True)
    try:
        secret = open_secret(
            target.secret_sealed,
            target.secret_key_id,
            target.secret_wrapped_key,
            target.authority_id,
            keyring,
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
        budget=_budget(settings),
    )


def _claim(session: Session, now: datetime, batch: int) -> list[_Claimed]:
    """Claim up to ``batch`` due messages and commit; return them in turns across authorities.

    Fairness: each authority with messages due gets an equal share of the batch (at least
    one), the authority waiting longest first; what the shares leave unused goes to the
    oldest due messages. The result alternates between authorities (each one's first
    message, then each one's second...), so that one authority's backlog of slow webhooks
    does not delay another's e-mail. (In-app messages are written sent: the bell reads the
    table, and they never come here.)"""
    begin_write(session)
    due = (Notification.next_attempt_at <= now) & (Notification.status == Status.PENDING)
    oldest = func.min(Notification.next_attempt_at)
    waiting = session.execute(
        select(Notification.authority_id, oldest)
        .where(due)
        .group_by(Notification.authority_id)
        .order_by(oldest, Notification.authority_id)
    ).all()
    share = max(1, batch // max(1, len(waiting)))
    locking = session.get_bind().dialect.name == "postgresql"

    def take(condition: ColumnElement[bool], limit: int) -> list[Notification]:
        query = (
            select(Notification)
            .where(due, condition)
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(limit)
        )
        if locking:
            query = query.with_for_update(skip_locked=True, of=Notification)
        return list(session.scalars(query))

    turns: dict[int, int] = {}
    rows: list[Notification] = []
    for authority_id, _oldest in waiting:
        if len(rows) >= batch:
            break
        mine = take(Notification.authority_id == authority_id, min(share, batch - len(rows)))
        turns.update((row.id, turn) for turn, row in enumerate(mine))
        rows += mine
    if len(rows) < batch:
        rest = take(Notification.id.not_in([r.id for r in rows]), batch - len(rows))
        turns.update((row.id, share + n) for n, row in enumerate(rest))
        rows += rest
    rows.sort(key=lambda row: (turns[row.id], row.next_attempt_at or now, row.id))
    claimed: list[_Claimed] = []
    for row in rows:
        row.attempts += 1
        row.next_attempt_at = now + LEASE
        subscription = (
            session.get(WebhookSubscription, row.subscription_id) if row.subscription_id else None
        )
        target = (
            _Target(
                subscription.url,
                subscription.secret_sealed,
                subscription.secret_key_id,
                subscription.secret_wrapped_key,
                subscription.authority_id,
            )
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


def _attempt(
    message: _Claimed, settings: Mapping[str, Any], keyring: Keyring | None, until: float
) -> DeliveryError | None:
    """One delivery attempt, run in a pool thread; raises _NotTried when ``until`` has passed
    before it could start."""
    if time.monotonic() >= until:
        raise _NotTried
    try:
        _deliver(message, settings, keyring)
    except DeliveryError as exc:
        return exc
    except Exception as exc:  # a poison message must not block the rest of the outbox
        return DeliveryError(f"unexpected {type(exc).__name__}: {exc}", retryable=True)
    return None


class _NotTried(Exception):
    """The pass ran out of time before this message's turn came."""


def dispatch(
    session: Session,
    settings: Mapping[str, Any],
    now: datetime,
    batch: int = 50,
    *,
    until: float | None = None,
    keyring: Keyring | None = None,
) -> DispatchResult:
    """Try the pending messages due at ``now``, at most ``batch`` of them, in turns across
    authorities (see :func:`_claim`).

    ``settings`` are the app's (``MLA_SMTP_URL``, ``MLA_MAIL_FROM``, ``MLA_SECRET_KEY``,
    ``MLA_DELIVERY_WORKERS``, ``MLA_DELIVERY_TIMEOUT``, optionally
    ``MLA_WEBHOOK_ALLOW_PRIVATE``, and ``MLA_KEYRING_FILE`` unless ``keyring`` is given, to
    open webhook secrets). Up to ``MLA_DELIVERY_WORKERS`` deliveries run at once,
    each cut off after ``MLA_DELIVERY_TIMEOUT`` seconds. A message whose turn comes after
    ``until`` (a ``time.monotonic()`` value), or after half the lease, is handed back untried,
    so a pass ends at most one delivery timeout after ``until``. Commits the claim and then
    each outcome, from this thread only; the session must not hold uncommitted work.
    Outcomes are stamped ``now`` plus the time the pass has taken. Never raises for a failed
    delivery (the error is stored in ``last_error``), nor for a failure to record one
    (logged; the message is sent again when its lease ends).
    """
    started = time.monotonic()
    deadline = started + LEASE.total_seconds() / 2
    if until is not None:
        deadline = min(deadline, until)
    claimed = _claim(session, now, batch)
    sent = retrying = dead = 0
    untried: list[_Claimed] = []
    if not claimed:
        return DispatchResult(0, 0, 0, 0)
    if keyring is None and any(m.target is not None for m in claimed):
        keyring = Keyring.open(settings["MLA_KEYRING_FILE"])
    workers = min(int(settings.get("MLA_DELIVERY_WORKERS") or DEFAULT_WORKERS), len(claimed))
    with ThreadPoolExecutor(workers, thread_name_prefix="mla-delivery") as pool:
        futures = {pool.submit(_attempt, m, settings, keyring, deadline): m for m in claimed}
        try:
            for future in as_completed(futures):
                message = futures[future]
                try:
                    error = future.result()
                except _NotTried:
                    untried.append(message)
                    continue
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
            # Interrupted (KeyboardInterrupt, a database gone): what has not started is not
            # tried; what has is recorded by the next claim when its lease ends.
            for future, message in futures.items():
                if future.cancel():
                    untried.append(message)
    if untried:
        try:
            _release(session, untried, now)
        except SQLAlchemyError:
            session.rollback()
            log.exception("could not hand back %d claimed notifications", len(untried))
    return DispatchResult(len(claimed), sent, retrying, dead)
