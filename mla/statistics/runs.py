"""The statistics' stage runs (:class:`~mla.statistics.models.StageRun`), kept in line with
each request as it moves: the one place they are written.

:func:`sync` runs with every transition that closes a stage's deadline, closes or opens the
request again, transmits it or changes its executing authority, and with a workflow migration
that closes it, in its transaction (called
by :func:`mla.requests.recording.record_change`, below which this module sits): nothing else
changes a run (a request's group columns change only while it is a draft, which has none),
so the report reads what the requests and their deadlines say without reading them. Business
days are counted here, once per run, on the party authority's calendar.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mla.audit.models import Event, EventKind
from mla.authorities.models import Authority
from mla.deadlines.models import Deadline, Outcome
from mla.deadlines.service import DeadlineService
from mla.requests.models import Request
from mla.statistics.models import StageRun

# Stage -> the workflow deadlines whose run measures it (from entering the state that starts
# it to leaving the states it runs through); "whole" is transmission (or creation) to closure.
STAGES: dict[str, tuple[str, ...]] = {
    "acknowledgement": ("acknowledgement",),
    "decision": ("decision",),
    "execution": ("execution",),
}
WHOLE = "whole"
STAGE_OF = {name: stage for stage, names in STAGES.items() for name in names}
# Deadlines that measure a stage when they close met or missed (cancelled ones do not: nobody
# owed them any more).
COUNTED = (Outcome.MET, Outcome.MISSED)
# What a row copies from its request, as the report groups by it.
GROUPS = ("counterpart_id", "kind", "legal_basis", "urgency", "outcome", "offence_categories")

Key = tuple[int, str, str, int | None]  # authority, direction, stage, deadline


def ended(deadlines: Sequence[Deadline]) -> bool:
    """Whether any of ``deadlines`` is a stage's that has ended, met or missed: a move that
    closed it must :func:`sync` the request's runs."""
    return any(
        d.closed_at is not None and d.outcome in COUNTED and d.name in STAGE_OF for d in deadlines
    )


def parties(request: Request) -> list[tuple[int, str, Any]]:
    """The authorities ``request`` counts for, each with its direction and the group columns
    it counts under: the requesting one (outgoing); once transmitted, the requested one and
    the executing one when it is another (incoming, once each)."""
    common = {
        "kind": request.kind,
        "legal_basis": request.legal_basis,
        "urgency": str(request.urgency),
        "outcome": request.outcome,
        "offence_categories": list(request.offence_categories or []),
    }
    found = [
        (
            request.requesting_authority_id,
            "outgoing",
            {**common, "counterpart_id": request.requested_authority_id},
        )
    ]
    if request.transmitted_at is not None:
        incoming = {**common, "counterpart_id": request.requesting_authority_id}
        found.append((request.requested_authority_id, "incoming", incoming))
        executing = request.executing_authority_id
        if executing is not None and executing != request.requested_authority_id:
            found.append((executing, "incoming", incoming))
    return found


def _grounds(session: Session, request: Request) -> list[str]:
    """The grounds given on the transitions of closed ``request`` into its final state (a
    refusal's ``grounds`` input), each once, in order: read from its history as it closes."""
    found: dict[str, None] = {}
    for data in session.scalars(
        select(Event.data).where(
            Event.request_id == request.id, Event.kind == EventKind.TRANSITION.value
        )
    ):
        given = (
            (data.get("inputs") or {}).get("grounds") if data.get("to") == request.outcome else None
        )
        if isinstance(given, list):
            found.update(dict.fromkeys(str(g) for g in given))
    return sorted(found)


def sync(session: Session, request: Request, deadlines: DeadlineService | None = None) -> None:
    """Bring ``request``'s stage runs in line with the request and its deadlines as flushed:
    a row per party authority (:func:`parties`) for each deadline of :data:`STAGES` closed
    met or missed, and for the whole request once closed (with the grounds of its closing,
    read from its history); the group columns as the request has them now. Rows whose
    times are unchanged keep their durations; business days are counted only for new or
    moved runs (``deadlines``: whose calendars to count on, one is
    made when None). Does not flush: the rows go out with the transaction's next flush.

    Reads one range of the deadline index and the request's runs. A request neither
    transmitted nor closed is skipped: no stage of it can have ended (its stages start on
    the requested side, and the whole request ends at closure)."""
    if request.transmitted_at is None and request.closed_at is None:
        return
    with session.no_autoflush:  # new rows are complete only once counted
        runs: list[tuple[str, int | None, datetime, datetime]] = [
            (STAGE_OF[name], deadline_id, started, closed or started)
            for deadline_id, name, started, closed in session.execute(
                select(Deadline.id, Deadline.name, Deadline.started_at, Deadline.closed_at).where(
                    Deadline.request_id == request.id,
                    Deadline.closed_at.is_not(None),
                    Deadline.name.in_(list(STAGE_OF)),
                    Deadline.outcome.in_(COUNTED),
                )
            )
        ]
        grounds = _grounds(session, request) if request.closed_at is not None else []
        wanted: dict[Key, dict[str, Any]] = {}
        for authority_id, direction, groups in parties(request):
            whole = []
            if request.closed_at is not None:
                since = request.created_at if direction == "outgoing" else request.transmitted_at
                assert since is not None  # incoming only once transmitted
                whole = [(WHOLE, None, since, request.closed_at)]
            for stage, deadline_id, started, ended in [*runs, *whole]:
                wanted[(authority_id, direction, stage, deadline_id)] = {
                    "started_at": started,
                    "ended_at": ended,
                    "grounds": grounds if stage == WHOLE else [],
                    **groups,
                }
        have = {
            (r.authority_id, r.direction, r.stage, r.deadline_id): r
            for r in session.scalars(select(StageRun).where(StageRun.request_id == request.id))
        }
        for key, row in have.items():
            if key not in wanted:
                session.delete(row)
        for key, values in wanted.items():
            found = have.get(key)
            if found is not None:
                row = found
            else:
                authority_id, direction, stage, deadline_id = key
                row = StageRun(
                    request_id=request.id,
                    authority_id=authority_id,
                    direction=direction,
                    stage=stage,
                    deadline_id=deadline_id,
                )
                session.add(row)
            values["ended_year"] = values["ended_at"].astimezone(UTC).year
            moved = row.started_at != values["started_at"] or row.ended_at != values["ended_at"]
            for name, value in values.items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
            if moved:
                if deadlines is None:
                    deadlines = DeadlineService(session)
                calendar = deadlines.calendar(session.get_one(Authority, row.authority_id))
                # Tenths of a day, as the report shows them: a percentile of the rounded
                # values is the rounded percentile, and a group holds few distinct ones.
                row.days = round((row.ended_at - row.started_at).total_seconds() / 86400, 1)
                row.business_days = calendar.business_days_between(row.started_at, row.ended_at)
