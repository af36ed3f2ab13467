"""API tokens: issued once, stored as a SHA-256 digest, revocable.

Tokens carry 256 bits from the OS's CSPRNG, so a plain SHA-256 digest is enough to store them:
there is nothing for a slow KDF to protect against guessing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from mla.authorities.models import ApiToken, Authority, Role
from mla.db import utcnow
from mla.errors import N_, Conflict, FieldError, Invalid, NotFound

TOKEN_PREFIX = "mla_"  # noqa: S105 - a label, not a secret
DEFAULT_SCOPES = ["requests:read", "requests:write", "evidence:read", "evidence:write"]
# last_used_at is for humans ("is this token still in use?"); writing it on every call would
# turn every API read into a database write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# A token forgotten in a decommissioned system must not open the API for ever; a year lets
# the authority's case system renew it with its yearly maintenance. Tokens issued before
# this default keep the expiry (or none) they were issued with.
DEFAULT_VALIDITY_DAYS = 365


# Built once: every API call looks its token up, and building the statement costs more than
# running it.
_BY_DIGEST = select(ApiToken).where(ApiToken.secret_hash == bindparam("digest"))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    session: Session,
    authority: Authority,
    *,
    valid_for: timedelta = timedelta(days=DEFAULT_VALIDITY_DAYS),
    role: Role | str = Role.CLERK,
) -> tuple[ApiToken, str]:
    """Issue a token for ``authority``, valid for ``valid_for`` (a year by default); return
    the row and the token, which is not kept.

    ``role`` is the role the calling system acts with (default clerk). Issuing a supervisor
    token delegates supervisor decisions (e.g. signing a request) to that system; it is a
    deliberate act of whoever runs ``mla tokens create --role``, recorded on the row.
    """
    try:
        role = Role(role)
    except ValueError:
        raise Invalid(FieldError("role", N_("must be clerk, supervisor or admin"))) from None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        authority_id=authority.id,
        prefix=token[:12],
        secret_hash=_digest(token),
        scopes=list(DEFAULT_SCOPES),
        role=role,
        expires_at=utcnow() + valid_for,
    )
    session.add(row)
    session.flush()
    return row, token


def revoke(session: Session, token_id: int, *, authority: Authority | None = None) -> ApiToken:
    """Revoke a token at once. With ``authority`` (an admin in the UI), only that authority's
    own tokens: another's is NotFound, as if it did not exist; without (the operator's CLI),
    any token."""
    row = session.get(ApiToken, token_id)
    if row is None or (authority is not None and row.authority_id != authority.id):
        raise NotFound(N_("no API token with id %(token_id)s"), {"token_id": token_id})
    if row.revoked_at is not None:
        raise Conflict(N_("API token %(token_id)s was already revoked"), {"token_id": token_id})
    row.revoked_at = utcnow()
    session.flush()
    return row


def authenticate(session: Session, token: str, *, now: datetime | None = None) -> ApiToken | None:
    """Return the live token row for ``token``, or None if unknown, expired or revoked."""
    now = now or utcnow()
    row = session.scalar(_BY_DIGEST, {"digest": _digest(token)})
    # The lookup is by digest; comparing again in constant time costs nothing and keeps
    # the check independent of how the database compares strings.
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(token)):
        return None
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    return row


def touch(session: Session, token_id: int, now: datetime) -> None:
    """Note ``token_id``'s use at ``now`` (if not noted within LAST_USED_RESOLUTION), with
    one UPDATE. Run it as the first statement of a transaction: on SQLite a transaction
    that has read cannot take the write lock once another writer has committed."""
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(
                ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at <= now - LAST_USED_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )


def list_tokens(session: Session, authority: Authority | None = None) -> list[ApiToken]:
    """Tokens in the order issued: of ``authority`` only, or (the operator's CLI) of all."""
    query = select(ApiToken).order_by(ApiToken.id)
    if authority is not None:
        query = query.where(ApiToken.authority_id == authority.id)
    return list(session.scalars(query))


MAX_VALIDITY_DAYS = 730


def create_for_admin(
    session: Session, authority: Authority, *, days: str | int, role: Role | str
) -> tuple[ApiToken, str]:
    """An authority's admin issues a token in the web UI: as :func:`create`, valid for
    ``days`` (a whole number from 1 to :data:`MAX_VALIDITY_DAYS`: a token must expire). Raises
    Invalid naming ``days`` or ``role``, issuing nothing."""
    errors: list[FieldError] = []
    try:
        valid = int(str(days).strip())
    except ValueError:
        valid = 0
    if not 1 <= valid <= MAX_VALIDITY_DAYS:
        errors.append(
            FieldError(
                "days",
                N_("must be a whole number of days from 1 to %(max)s"),
                {"max": MAX_VALIDITY_DAYS},
            )
        )
    if str(role) not in {r.value for r in Role}:
        errors.append(FieldError("role", N_("must be clerk, supervisor or admin")))
    if errors:
        raise Invalid(errors)
    return create(session, authority, valid_for=timedelta(days=valid), role=role)
