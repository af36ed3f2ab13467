"""When an open request will likely be done, from the history of comparable closed requests.

Comparable: the same kind of request, closed, that passed through the state the request is in
now; the same requested authority when there are at least COUNTERPART_SAMPLE of them, else
the kind overall; below MIN_SAMPLE there is "not enough history" rather than a guess. The
time each took from first entering that state to its closure gives the remaining time, at
the 50th and 90th percentile (nearest rank), added to when the request entered its state.

Only the RECENT latest closed requests of the kind are read (through the index on kind and
closure time): recent practice is the better guide, and the cost stays flat however large the
archive grows. Their durations, at most RECENT values, are ranked in Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mla.audit.models import Event, EventKind
from mla.requests.models import Request

COUNTERPART_SAMPLE = 10
MIN_SAMPLE = 5
RECENT = 500


@dataclass(frozen=True)
class Estimate:
    """``basis``: ``counterpart`` (the same kind and requested authority), ``kind`` (the same
    kind overall) or ``none`` (not enough history: ``p50``/``p90`` are None). ``sample``: how
    many closed requests it rests on. ``since``: when the request entered its state."""

    basis: Literal["counterpart", "kind", "none"]
    sample: int
    since: datetime
    p50: datetime | None
    p90: datetime | None


def nearest_rank(values: list[float], p: float) -> float:
    """The value at rank ceil(p * n) of ``values`` sorted ascending (``values`` not empty)."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p * len(ordered))) - 1]


def _entered(session: Session, request: Request) -> datetime | None:
    """When ``request`` last entered its current state; None if it never moved (it is still
    in the state it was opened or received in)."""
    return session.scalar(
        select(func.max(Event.at)).where(
            Event.request_id == request.id,
            Event.kind == EventKind.TRANSITION.value,
            Event.data["to"].as_string() == request.state,
        )
    )


def _remaining(
    session: Session, request: Request, *, counterpart: bool, from_opening: bool
) -> list[float]:
    """Days from first entering ``request.state`` (from being opened, for a request that
    never moved) to closure, for the latest comparable closed requests."""
    recent = select(
        Request.id,
        func.coalesce(Request.transmitted_at, Request.created_at).label("opened"),
        Request.closed_at,
    ).where(Request.kind == request.kind, Request.closed_at.is_not(None))
    if counterpart:
        recent = recent.where(Request.requested_authority_id == request.requested_authority_id)
    latest = recent.order_by(Request.closed_at.desc()).limit(RECENT).subquery()
    if from_opening:
        stmt = select(latest.c.closed_at, latest.c.opened)
    else:
        stmt = (
            select(latest.c.closed_at, func.min(Event.at))
            .join(Event, Event.request_id == latest.c.id)
            .where(
                Event.kind == EventKind.TRANSITION.value,
                Event.data["to"].as_string() == request.state,
            )
            .group_by(latest.c.id, latest.c.closed_at)
        )
    return [(closed - start).total_seconds() / 86400 for closed, start in session.execute(stmt)]


def estimate(session: Session, request: Request) -> Estimate | None:
    """The completion estimate of ``request``, or None once it is closed.

    Requires a request the caller may see (read through the scoped request service).
    Guarantees an Estimate whose ``p50`` <= ``p90`` when ``basis`` is not ``none``; the
    figures rest on ``sample`` closed requests (see the module's notes). Reads only.
    """
    if request.closed_at is not None:
        return None
    entered = _entered(session, request)
    since = entered or request.transmitted_at or request.created_at
    opening = entered is None
    durations = _remaining(session, request, counterpart=True, from_opening=opening)
    basis: Literal["counterpart", "kind", "none"] = "counterpart"
    if len(durations) < COUNTERPART_SAMPLE:
        durations = _remaining(session, request, counterpart=False, from_opening=opening)
        basis = "kind"
    if len(durations) < MIN_SAMPLE:
        return Estimate("none", len(durations), since, None, None)
    p50, p90 = nearest_rank(durations, 0.5), nearest_rank(durations, 0.9)
    return Estimate(
        basis, len(durations), since, since + timedelta(days=p50), since + timedelta(days=p90)
    )
