"""The bell: a user's in-app messages, which the outbox writers commit already delivered
(:mod:`mla.notify.service`); reading them, opening one and marking them read.

One escalation is one entry: when several steps of the same deadline are unread (a sweeper
that was down fires every step it missed at once), the bell lists only the newest of them,
counts it once, and marking it read marks them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from mla.authorities.models import User
from mla.db import utcnow
from mla.notify.models import Channel, Notification

ESCALATED = "deadline.escalated"


def text_in(notification: Notification, lang: str) -> str:
    """The message's text in ``lang`` when it was written in every language, else in the
    language it was written in (messages from before mla kept them all)."""
    payload = notification.payload or {}
    texts = payload.get("texts") or {}
    return str(texts.get(lang) or payload.get("text") or notification.subject or "")


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
        """``user``'s unread in-app messages, newest first (at most ``limit``), each unread
        escalation of a deadline once (its newest step)."""
        rows = self.session.scalars(
            self._unread_query(user)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit * 4)
        )
        seen: set[int] = set()
        out: list[Notification] = []
        for row in rows:
            if row.event == ESCALATED and row.deadline_id is not None:
                if row.deadline_id in seen:
                    continue
                seen.add(row.deadline_id)
            out.append(row)
            if len(out) == limit:
                break
        return out

    def unread_count(self, user: User) -> int:
        """How many entries :meth:`unread` lists (without its limit)."""
        unread = self._unread_query(user).subquery()
        single = select(func.count()).where(
            (unread.c.event != ESCALATED) | unread.c.deadline_id.is_(None)
        )
        escalations = select(func.count(func.distinct(unread.c.deadline_id))).where(
            unread.c.event == ESCALATED
        )
        return int(self.session.scalar(single) or 0) + int(self.session.scalar(escalations) or 0)

    def open(self, user: User, notification_id: int, now: datetime | None = None) -> str | None:
        """``user`` opens in-app message ``notification_id``: mark it read (see
        :meth:`mark_read`) and return the path it links to on this site. None when it is not
        ``user``'s (nothing revealed, nothing changed) or links nowhere."""
        row = self.session.get(Notification, notification_id)
        if row is None or row.user_id != user.id or row.channel != Channel.IN_APP:
            return None
        self.mark_read(user, [row.id], now)
        link = str((row.payload or {}).get("link") or "")
        return link if link.startswith("/requests/") else None

    def mark_read(self, user: User, ids: Iterable[int], now: datetime | None = None) -> int:
        """Mark ``user``'s in-app messages ``ids`` read, with the earlier unread steps of the
        same escalations; ids of anyone else's are ignored (not revealed). Returns how many
        changed."""
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return 0
        mine = (
            Notification.user_id == user.id,
            Notification.channel == Channel.IN_APP,
            Notification.read_at.is_(None),
        )
        # An alias, so that the subquery does not correlate with the UPDATE's own rows.
        earlier = aliased(Notification)
        deadlines = select(earlier.deadline_id).where(
            earlier.id.in_(wanted),
            earlier.user_id == user.id,
            earlier.channel == Channel.IN_APP,
            earlier.event == ESCALATED,
            earlier.deadline_id.is_not(None),
        )
        result = self.session.execute(
            update(Notification)
            .where(
                Notification.id.in_(wanted)
                | (
                    (Notification.event == ESCALATED)
                    & Notification.deadline_id.in_(deadlines.scalar_subquery())
                ),
                *mine,
            )
            .values(read_at=now or utcnow())
            .execution_options(synchronize_session=False)
        )
        self.session.flush()
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
