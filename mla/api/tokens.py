"""API tokens: issued once, stored as a SHA-256 digest, revocable.

Tokens carry 256 bits from the OS's CSPRNG, so a plain SHA-256 digest is enough to store them:
there is nothing for a slow KDF to protect against guessing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mla.api.models import ApiToken
from mla.authorities.models import Authority
from mla.db import utcnow
from mla.errors import Conflict, NotFound

TOKEN_PREFIX = "mla_"  # noqa: S105 - a label, not a secret
DEFAULT_SCOPES = ["requests:read", "requests:write", "evidence:read", "evidence:write"]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    session: Session, authority: Authority, *, valid_for: timedelta | None = None
) -> tuple[ApiToken, str]:
    """Issue a token for ``authority``; return the row and the token, which is not kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        authority_id=authority.id,
        prefix=token[:12],
        secret_hash=_digest(token),
        scopes=list(DEFAULT_SCOPES),
        expires_at=utcnow() + valid_for if valid_for else None,
    )
    session.add(row)
    session.flush()
    return row, token


def revoke(session: Session, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no API token with id {token_id}")
    if row.revoked_at is not None:
        raise Conflict(f"API token {token_id} was already revoked")
    row.revoked_at = utcnow()
    session.flush()
    return row


def authenticate(session: Session, token: str, *, now: datetime | None = None) -> ApiToken | None:
    """Return the live token row for ``token``, or None if unknown, expired or revoked."""
    now = now or utcnow()
    row = session.scalar(select(ApiToken).where(ApiToken.secret_hash == _digest(token)))
    # The lookup is by digest; comparing again in constant time costs nothing and keeps
    # the check independent of how the database compares strings.
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(token)):
        return None
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    row.last_used_at = now
    return row


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))
