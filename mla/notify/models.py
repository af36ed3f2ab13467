"""The outbox, fired escalation steps and webhook subscriptions.

Every notification is a :class:`Notification` row written in the same transaction as its cause
(a state change, an escalation step); the dispatcher delivers it afterwards in its own
transaction. ``next_attempt_at`` is set only while a row waits for delivery, so the
dispatcher's indexed range scan reads only what is due.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mla.db import Base, JSONType, StrEnumType, utcnow


class Channel(enum.StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    IN_APP = "in_app"


class Status(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class Notification(Base):
    """One message to one recipient over one channel.

    The recipient is a user (e-mail, in-app; ``address`` keeps the e-mail address it was sent
    to) or a webhook subscription. ``subject`` and ``payload`` are rendered when the row is
    written, in the recipient's language, so that a retry days later sends the same text.
    """

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "channel", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(StrEnumType(Channel, "notification_channel"))
    event: Mapped[str] = mapped_column(
        String(64), comment="what happened, e.g. request.state_changed, deadline.escalated"
    )
    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"),
        index=True,
        comment="the recipient's authority; listings are scoped to it",
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), comment="recipient user, if a person"
    )
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_subscription.id", ondelete="CASCADE"),
        index=True,
        comment="recipient webhook subscription, if a system",
    )
    address: Mapped[str | None] = mapped_column(
        String(254), comment="e-mail address the message goes to (snapshot)"
    )
    language: Mapped[str] = mapped_column(String(8), default="en")
    subject: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(
        JSONType, default=dict, comment="e-mail text, webhook JSON body or in-app text and link"
    )
    status: Mapped[Status] = mapped_column(
        StrEnumType(Status, "notification_status"), default=Status.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(
        index=True, comment="when the dispatcher next tries; None once sent or dead"
    )
    last_error: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("request.id", ondelete="CASCADE"), index=True, comment="the request concerned"
    )
    deadline_id: Mapped[int | None] = mapped_column(
        ForeignKey("deadline.id", ondelete="CASCADE"), comment="the deadline that escalated"
    )
    level: Mapped[int | None] = mapped_column(Integer, comment="the escalation step (1-based)")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None] = mapped_column(comment="in-app: when the user read it")

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.channel.value} {self.status.value}>"


class Escalation(Base):
    """An escalation step that fired. The unique key makes each step fire exactly once, even
    with several sweepers at once."""

    __tablename__ = "escalation"
    __table_args__ = (UniqueConstraint("deadline_id", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadline.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer, comment="the step of the ladder (1-based)")
    fired_at: Mapped[datetime] = mapped_column(
        default=utcnow, comment="when the sweeper fired it (its --now time)"
    )


class WebhookSubscription(Base):
    """An authority's system that wants status changes POSTed to ``url``.

    The signing secret is needed in clear to sign, so it is stored sealed (AES-256-GCM under a
    data key wrapped by the keyring, as evidence is), never as plaintext; it is shown once on
    creation.
    """

    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2048), comment="http(s) URL the events go to")
    secret_sealed: Mapped[bytes] = mapped_column(
        LargeBinary, comment="signing secret: nonce + AES-GCM ciphertext; never plaintext"
    )
    secret_key_id: Mapped[str | None] = mapped_column(
        String(16),
        comment="keyring key wrapping the secret's data key; null: sealed under MLA_SECRET_KEY "
        "by an older version, until the worker seals it again",
    )
    secret_wrapped_key: Mapped[bytes | None] = mapped_column(
        LargeBinary, comment="the secret's data key, wrapped (RFC 3394) under secret_key_id"
    )
    events: Mapped[list[str] | None] = mapped_column(
        JSONType, comment="event types wanted; null means all"
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]

    def wants(self, event: str) -> bool:
        return self.active and (not self.events or event in self.events)

    def __repr__(self) -> str:
        return f"<WebhookSubscription {self.id} {self.url}>"
