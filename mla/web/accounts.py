"""Signing in and a user's own settings: the rules the sign-in form applies.

These flush and never commit; the view commits. Lockout: after ``MAX_FAILURES`` wrong
passwords in a row an account is locked for ``LOCK_FOR``; a right password while locked is
refused too, so that guessing cannot go on in the background.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from mla.authorities.models import User
from mla.authorities.service import LANGUAGES, hash_password, verify_password
from mla.errors import FieldError, Invalid

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)

# Checked when the username is unknown, so that a wrong username costs as long as a wrong
# password and response times do not tell which usernames exist.
_DUMMY_HASH: str | None = None


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: ``user`` when it succeeded, else why not."""

    user: User | None
    locked_until: datetime | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("not-a-password-0")
    return _DUMMY_HASH


def sign_in(session: Session, username: str, password: str, now: datetime) -> SignIn:
    """Check ``username`` and ``password``.

    Guarantees: a wrong password counts a failure (locking the account at the
    ``MAX_FAILURES``-th); a right one resets the count and records the time. A locked or
    inactive account never signs in. Returns ``SignIn(None, locked_until)`` when the account
    is locked, ``SignIn(None)`` for any other failure (unknown user, wrong password).
    """
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or not user.active:
        check_password_hash(_dummy_hash(), password)
        return SignIn(None)
    if user.locked_until is not None and user.locked_until > now:
        return SignIn(None, user.locked_until)
    if not verify_password(user, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.failed_logins = 0
            user.locked_until = now + LOCK_FOR
            session.flush()
            return SignIn(None, user.locked_until)
        session.flush()
        return SignIn(None)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.flush()
    return SignIn(user)


def set_language(session: Session, user: User, language: str) -> None:
    """Remember ``user``'s UI language. Raises Invalid (field ``language``)."""
    if language not in LANGUAGES:
        raise Invalid(FieldError("language", f"must be one of {', '.join(LANGUAGES)}"))
    user.language = language
    session.flush()
