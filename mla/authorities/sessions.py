"""Server-side web sessions: started at sign-in, checked on every request, ended for good.

The browser holds a random session id (in Flask's signed cookie); the database holds only its
SHA-256 digest. A session is live until the first of: sign-out, the user's deactivation, a
change or reset of their password, ``ABSOLUTE_LIFETIME`` after sign-in, or ``IDLE_LIFETIME``
without a request. An ended session never comes back: reactivating a user or changing the
password back revives none of them. Functions flush; the caller commits.

The session id carries 256 bits from the OS's CSPRNG, so a plain SHA-256 digest is enough to
store it (as for API tokens).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from mla.authorities.models import SessionEnd, User, UserSession

# A working day and then some: clerks sign in once a day.
ABSOLUTE_LIFETIME = timedelta(hours=12)
# Longer than a meeting or lunch away from the desk, short enough that a browser left open
# overnight is signed out.
IDLE_LIFETIME = timedelta(hours=2)
# ``last_seen_at`` is written at most this often, so that reading pages stays reads.
TOUCH_EVERY = timedelta(minutes=1)
# Ended and expired rows are kept this long past their absolute end, for an investigation of
# who was signed in when, then deleted.
KEEP_FOR = timedelta(days=7)

_BY_DIGEST = select(UserSession).where(UserSession.id_hash == bindparam("digest"))


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start(session: Session, user: User, now: datetime) -> str:
    """Record a new session for ``user`` and return its id, for the cookie only.

    Requires an active user who has just proved who they are. Guarantees: the id is fresh
    and random; only its digest is stored. Also deletes rows past ``KEEP_FOR`` (of any user),
    so that the table holds about one row per sign-in of the last week. Flushes.
    """
    purge(session, now)
    session_id = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            user_id=user.id,
            id_hash=_digest(session_id),
            created_at=now,
            last_seen_at=now,
            expires_at=now + ABSOLUTE_LIFETIME,
        )
    )
    session.flush()
    return session_id


def find(session: Session, session_id: str, now: datetime) -> UserSession | None:
    """The live session with id ``session_id``, its user loaded, or None.

    None when the id is unknown, the session was ended, it is past its absolute or idle end,
    or its user is inactive. Reads only.
    """
    row = session.scalar(_BY_DIGEST, {"digest": _digest(session_id)})
    if (
        row is None
        or row.ended_at is not None
        or row.expires_at <= now
        or row.last_seen_at + IDLE_LIFETIME <= now
        or not row.user.active
    ):
        return None
    return row


def needs_touch(row: UserSession, now: datetime) -> bool:
    """Whether ``last_seen_at`` is stale enough to be written again (see ``TOUCH_EVERY``)."""
    return row.last_seen_at + TOUCH_EVERY <= now


def touch(session: Session, session_row_id: int, now: datetime) -> None:
    """Record that the session was used at ``now``; a no-op once it has ended. Flushes."""
    session.execute(
        update(UserSession)
        .where(
            UserSession.id == session_row_id,
            UserSession.ended_at.is_(None),
            UserSession.last_seen_at < now,
        )
        .values(last_seen_at=now)
    )


def end(session: Session, session_id: str, now: datetime) -> None:
    """End the session with id ``session_id`` (sign-out). Unknown or ended: nothing to do."""
    session.execute(
        update(UserSession)
        .where(UserSession.id_hash == _digest(session_id), UserSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=SessionEnd.SIGNED_OUT)
    )


def end_all(session: Session, user: User, reason: SessionEnd, now: datetime) -> int:
    """End every session of ``user`` that has not ended yet, for ``reason``.

    Guarantees: from the commit on, no cookie issued to ``user`` before it signs in again.
    Returns how many sessions were ended. Flushes.
    """
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def purge(session: Session, now: datetime) -> int:
    """Delete the rows whose absolute end is more than ``KEEP_FOR`` ago; return how many."""
    result = session.execute(delete(UserSession).where(UserSession.expires_at < now - KEEP_FOR))
    return int(result.rowcount)  # type: ignore[attr-defined]
