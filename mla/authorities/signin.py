"""Signing in and a user's own settings: the rules the web sign-in and account forms apply
(:mod:`mla.web.views.auth`, which owns the app's one :class:`SignInThrottle`).

These flush and never commit; the view commits.

Failed sign-ins are throttled, never locked: an outsider who knows a clerk's username must not
be able to keep the clerk out. Failures are counted per (client address, username) and per
client address in this process's memory (:class:`SignInThrottle`); a throttled attempt is
refused even with the right password, and every refusal (unknown user, inactive user, wrong
password, throttled) gives the same answer after the same work, one scrypt verification, so
that neither the answer nor its timing tells which usernames exist or which are throttled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from mla.authorities import sessions
from mla.authorities.models import SessionEnd, User
from mla.authorities.service import LANGUAGES, hash_password, set_password, verify_password
from mla.errors import N_, FieldError, Invalid

# Five guesses at one account from one address, then one more for each minute that passes:
# a clerk who mistypes is slowed for minutes, a guesser to about 300 guesses a day.
PER_CLIENT_AND_ACCOUNT = parse("5 per 5 minutes")
# Guessing across many accounts from one address. Generous, because a whole office may sit
# behind one address.
PER_CLIENT = parse("50 per 15 minutes")

# Checked when there is no password to check (unknown or inactive user, throttled attempt),
# so that every refusal costs one scrypt verification.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("not-a-password-0")
    return _DUMMY_HASH


class SignInThrottle:
    """Counts failed password checks in this process's memory (the ``limits`` library).

    Per process on purpose, like the API's rate limit: counting in the database would make
    every failure a write. With N web processes a guesser may get up to N times the rates.
    Thread-safe.
    """

    def __init__(self) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def allows(self, client: str, username: str) -> bool:
        """Whether a password check for ``username`` from ``client`` may count now."""
        return self._limiter.test(
            PER_CLIENT_AND_ACCOUNT, "account", client, username
        ) and self._limiter.test(PER_CLIENT, "client", client)

    def failed(self, client: str, username: str) -> None:
        self._limiter.hit(PER_CLIENT_AND_ACCOUNT, "account", client, username)
        self._limiter.hit(PER_CLIENT, "client", client)

    def succeeded(self, client: str, username: str) -> None:
        # The person at this address knows the password: their earlier typos are forgiven.
        # What other addresses tried is not.
        self._limiter.clear(PER_CLIENT_AND_ACCOUNT, "account", client, username)


@dataclass(frozen=True)
class SignIn:
    """A successful sign-in: the user and the id of their new session (for the cookie)."""

    user: User
    session_id: str


def _check(
    throttle: SignInThrottle, client: str, username: str, user: User | None, password: str
) -> bool:
    """One scrypt verification whatever the case; True only for an active user, not
    throttled, with the right password. Counts a failure against ``client``."""
    if user is None or not user.active or not throttle.allows(client, username):
        check_password_hash(_dummy_hash(), password)
        ok = False
    else:
        ok = verify_password(user, password)
    if ok:
        throttle.succeeded(client, username)
    else:
        throttle.failed(client, username)
    return ok


def sign_in(
    session: Session,
    throttle: SignInThrottle,
    client: str,
    username: str,
    password: str,
    now: datetime,
) -> SignIn | None:
    """Check ``username`` and ``password`` sent from address ``client``.

    Guarantees: on success, the time is recorded and a new server-side session is started;
    None for every refusal alike (unknown or inactive user, wrong password, too many failures
    from ``client``), after the same work. No account is ever locked. Flushes.
    """
    username = username.strip().lower()
    user = session.scalar(select(User).where(User.username == username))
    if not _check(throttle, client, username, user, password):
        return None
    assert user is not None
    user.last_login_at = now
    return SignIn(user, sessions.start(session, user, now))


def change_password(
    session: Session,
    throttle: SignInThrottle,
    client: str,
    user: User,
    current: str,
    new: str,
    now: datetime,
) -> str:
    """``user`` changes their own password from ``current`` to ``new``.

    Guarantees: every session of ``user`` ends, including the one that asked (a stolen copy
    of its cookie must die too), and the id of a new session for the asking browser is
    returned. Guessing ``current`` is throttled like signing in. Raises Invalid naming
    ``current_password`` (wrong or throttled) or ``password`` (too weak), changing nothing.
    Flushes.
    """
    if not _check(throttle, client, user.username, user, current):
        raise Invalid(
            FieldError("current_password", N_("is not your current password (or wait and retry)"))
        )
    set_password(session, user, new, SessionEnd.PASSWORD_CHANGED)
    return sessions.start(session, user, now)


def set_language(session: Session, user: User, language: str) -> None:
    """Remember ``user``'s UI language. Raises Invalid (field ``language``)."""
    if language not in LANGUAGES:
        raise Invalid(
            FieldError(
                "language", N_("must be one of %(LANGUAGES)s"), {"LANGUAGES": ", ".join(LANGUAGES)}
            )
        )
    user.language = language
    session.flush()
