"""The outbox as admins and the operator see it: listing what was sent or given up on, and
queueing a dead message again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mla.authorities.models import Authority
from mla.db import utcnow
from mla.errors import N_, Conflict, NotFound
from mla.notify.models import Channel, Notification, Status


class OutboxAdmin:
    """Outbox rows (e-mail and webhooks) for admins, scoped to their authority, and for the
    operator's CLI, unscoped."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def listing(
        self, authority: Authority | None = None, status: Status | None = None, limit: int = 100
    ) -> list[Notification]:
        """Outbox rows, newest first, of ``authority``'s recipients (None: every authority,
        for the operator's CLI), optionally of one ``status``."""
        query = select(Notification).where(Notification.channel != Channel.IN_APP)
        if authority is not None:
            query = query.where(Notification.authority_id == authority.id)
        if status is not None:
            query = query.where(Notification.status == status)
        return list(self.session.scalars(query.order_by(Notification.id.desc()).limit(limit)))

    def dead(self, authority: Authority | None = None, limit: int = 100) -> list[Notification]:
        """Messages given up on after their last try, for admins to read and re-send."""
        return self.listing(authority, Status.DEAD, limit)

    def resend(
        self,
        notification_id: int,
        authority: Authority | None = None,
        now: datetime | None = None,
    ) -> Notification:
        """Queue dead message ``notification_id`` again, with a fresh set of attempts.

        Scoped to ``authority`` when given. Raises NotFound for an unknown id (or another
        authority's), Conflict when the message is not dead.
        """
        row = self.session.get(Notification, notification_id)
        if row is None or (authority is not None and row.authority_id != authority.id):
            raise NotFound(
                N_("no notification %(notification_id)s"), {"notification_id": notification_id}
            )
        if row.status != Status.DEAD:
            raise Conflict(
                N_("notification %(notification_id)s is %(value)s, not dead"),
                {"notification_id": notification_id, "value": row.status.value},
            )
        row.status = Status.PENDING
        row.attempts = 0
        row.next_attempt_at = now or utcnow()
        self.session.flush()
        return row
