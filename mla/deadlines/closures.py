"""An authority's closure days: dates that are not business days for its deadlines, as its admin
adds and removes them and as the directory shows those coming up."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mla.authorities.models import Authority
from mla.deadlines.models import AuthorityClosure
from mla.deadlines.service import DeadlineService
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


def upcoming_closures(
    session: Session, authorities: Collection[Authority], now: datetime, limit: int = 10
) -> dict[int, list[AuthorityClosure]]:
    """Authority id → its closure days from today on its own calendar, in date order, the
    first ``limit`` of each (the directory shows what is coming, not the whole year). One
    query for all of ``authorities``."""
    by_id = {a.id: a for a in authorities}
    if not by_id:
        return {}
    earliest = min(DeadlineService.local_today(a, now) for a in by_id.values())
    found: dict[int, list[AuthorityClosure]] = {}
    for closure in session.scalars(
        select(AuthorityClosure)
        .where(AuthorityClosure.authority_id.in_(by_id), AuthorityClosure.day >= earliest)
        .order_by(AuthorityClosure.authority_id, AuthorityClosure.day)
    ):
        days = found.setdefault(closure.authority_id, [])
        today = DeadlineService.local_today(by_id[closure.authority_id], now)
        if closure.day >= today and len(days) < limit:
            days.append(closure)
    return found
