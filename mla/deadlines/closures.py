"""An authority's closure days: dates that are not business days for its deadlines."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from mla.authorities.models import Authority
from mla.deadlines.models import AuthorityClosure
from mla.errors import N_, Conflict, FieldError, Invalid, NotFound


def add_closure(session: Session, authority: Authority, day: date, reason: str) -> AuthorityClosure:
    """Mark ``day`` as a closure of ``authority`` (not a business day for its deadlines).

    Raises Invalid naming ``reason`` when it is empty, Conflict when the day is already closed.
    """
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(FieldError("reason", N_("give the reason for the closure")))
    exists = session.scalar(
        select(AuthorityClosure).where(
            AuthorityClosure.authority_id == authority.id, AuthorityClosure.day == day
        )
    )
    if exists is not None:
        raise Conflict(
            N_("%(code)s is already closed on %(day)s"),
            {"code": authority.code, "day": day.isoformat()},
        )
    closure = AuthorityClosure(authority_id=authority.id, day=day, reason=reason[:300])
    session.add(closure)
    session.flush()
    return closure


def list_closures(session: Session, authority: Authority) -> list[AuthorityClosure]:
    """The closure days of ``authority``, in date order."""
    return list(
        session.scalars(
            select(AuthorityClosure)
            .where(AuthorityClosure.authority_id == authority.id)
            .order_by(AuthorityClosure.day)
        )
    )


def remove_closure(session: Session, authority: Authority, closure_id: int) -> AuthorityClosure:
    """Reopen the day of closure ``closure_id`` of ``authority``.

    As with adding one, due times already stored are not recomputed. Raises NotFound for an
    unknown id or another authority's closure (its existence is not revealed). Flushes.
    """
    closure = session.get(AuthorityClosure, closure_id)
    if closure is None or closure.authority_id != authority.id:
        raise NotFound(N_("no closure day %(closure_id)s"), {"closure_id": closure_id})
    session.delete(closure)
    session.flush()
    return closure
