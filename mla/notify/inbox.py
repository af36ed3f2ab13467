"""The bell: a user's in-app messages, which the outbox writers commit already delivered
(:mod:`mla.notify.service`); reading them and marking them read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mla.authorities.models import User
from mla.db import utcnow
from mla.notify.models import Channel, Notification


class Inbox:
    """In-app messages of one unit of work's users."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _unread_query(self, user: User):  # type: ignore[no-untyped-def]
        return select(Notification).where(
            Notification.user_id == user.id,
            Notification.channel == Channel.IN_APP,
            Notification.read_at.is_(None),
        )

    def unread(self, user: User, limit: int = 50) -> list[Notification]:
        """``user``'s unread in-app messages, newest first (at most ``limit``)."""
        return list(
            self.session.scalars(
                self._unread_query(user).order_by(Notification.id.desc()).limit(limit)
            )
        )

    def unread_count(self, user: User) -> int:
        return int(
            self.session.scalar(
                select(func.count()).select_from(self._unread_query(user).subquery())
            )
            or 0
        )

    def mark_read(self, user: User, ids: Iterable[int], now: datetime | None = None) -> int:
        """Mark ``user``'s in-app messages ``ids`` read; ids of anyone else's are ignored (not
        revealed). Returns how many changed."""
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return 0
        result = self.session.execute(
            update(Notification)
            .where(
                Notification.id.in_(wanted),
                Notification.user_id == user.id,
                Notification.channel == Channel.IN_APP,
                Notification.read_at.is_(None),
            )
            .values(read_at=now or utcnow())
            .execution_options(synchronize_session=False)
        )
        self.session.flush()
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
