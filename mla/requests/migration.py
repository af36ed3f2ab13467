"""Moving open requests from one version of their workflow to another (an operator's act).

A request keeps the version it was opened under; only ``mla workflows migrate`` moves it, by
a state map: a state of the old version maps to the state of the same name in the new one
unless the map says otherwise. A map entry is ``STATE: NEW`` or, where the old version let
one state stand for situations the new one tells apart, ``STATE after PREVIOUS: NEW`` (the
state the request was in before it entered STATE, read from its history). Each move is
recorded in the request's hash-chained history and its deadlines are brought in line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from mla.audit import replay
from mla.audit.models import Event, EventKind
from mla.db import begin_write
from mla.deadlines.service import DeadlineService
from mla.errors import N_, Conflict, MLAError
from mla.requests.models import Request
from mla.requests.recording import record_change
from mla.workflow.engine import Engines

_KEY = re.compile(r"^(?P<state>[a-z][a-z0-9_]*)(?:\s+after\s+(?P<previous>[a-z][a-z0-9_]*))?$")


@dataclass(frozen=True)
class Move:
    reference: str
    request_id: int
    source: str
    dest: str


def map_file(directory: Path, name: str, old: int, new: int) -> Path:
    """Where the state map of ``name`` from version ``old`` to ``new`` lives by default."""
    return directory / "migrations" / f"{name}.v{old}-v{new}.yaml"


def read_map(path: Path) -> dict[str, str]:
    """The state map in ``path`` (a YAML mapping of ``STATE`` or ``STATE after PREVIOUS`` to
    a state name). Raises MLAError naming the file and the first bad entry."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MLAError(
            N_("%(path)s: cannot read the state map: %(exc)s"), {"path": path, "exc": exc}
        ) from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise MLAError(
            N_("%(path)s: the state map must be a mapping of old state to new state"),
            {"path": path},
        )
    for key, value in raw.items():
        if not isinstance(key, str) or not _KEY.match(key) or not isinstance(value, str):
            raise MLAError(
                N_("%(path)s: bad entry %(key)r: write 'STATE: NEW' or 'STATE after X: NEW'"),
                {"path": path, "key": key},
            )
    return {str(k): str(v) for k, v in raw.items()}


def _previous(session: Session, request: Request) -> str | None:
    """The state ``request`` was in before it entered its current state."""
    event = session.scalar(
        select(Event)
        .where(Event.request_id == request.id, Event.kind == str(EventKind.TRANSITION))
        .order_by(Event.seq.desc())
        .limit(1)
    )
    return str(event.data["from"]) if event is not None and event.data else None


def plan(
    session: Session, engines: Engines, name: str, old: int, new: int, states: Mapping[str, str]
) -> list[Move]:
    """The moves that would take every open request of ``name`` at version ``old`` to
    version ``new`` under the map ``states``, oldest request first.

    Raises NotFound for an unknown workflow or version; MLAError when ``new`` is not later
    than ``old``, when the map names a state neither version knows, or naming in one line
    every state of an open request that maps to nothing in the new version.
    """
    before = engines.get(name, old).workflow
    after = engines.get(name, new).workflow
    if new <= old:
        raise MLAError(
            N_("--to (%(new)s) must be a later version than --from (%(old)s)"),
            {"new": new, "old": old},
        )
    for key, target in states.items():
        match = _KEY.match(key)
        assert match is not None  # read_map checked the keys
        if match["state"] not in before.states:
            raise MLAError(
                N_("the state map names %(state)r, not a state of version %(old)s"),
                {"state": match["state"], "old": old},
            )
        if target not in after.states:
            raise MLAError(
                N_("the state map names %(target)r, not a state of version %(new)s"),
                {"target": target, "new": new},
            )
    requests = session.scalars(
        select(Request)
        .where(Request.kind == name, Request.workflow_version == old, Request.closed_at.is_(None))
        .order_by(Request.id)
    )
    moves: list[Move] = []
    unmapped: set[str] = set()
    for request in requests:
        dest: str | None = None
        if any(k.startswith(f"{request.state} after ") for k in states):
            dest = states.get(f"{request.state} after {_previous(session, request)}")
        dest = dest or states.get(request.state)
        if dest is None and request.state in after.states:
            dest = request.state
        if dest is None:
            unmapped.add(request.state)
            continue
        moves.append(Move(request.reference, request.id, request.state, dest))
    if unmapped:
        raise MLAError(
            N_(
                "no state of %(name)s version %(new)s for: %(unmapped)s (add them to the state map)"
            ),
            {"name": name, "new": new, "unmapped": ", ".join(sorted(unmapped))},
        )
    return moves


def apply(
    session: Session, engines: Engines, name: str, old: int, new: int, moves: list[Move],
    now: datetime,
) -> None:  # fmt: skip
    """Move each request of ``moves`` to version ``new`` of ``name`` and its mapped state.

    Requires ``moves`` from :func:`plan` in this transaction. Guarantees, for each request:
    version, state and holder changed, deadlines brought in line
    (:meth:`DeadlineService.on_migrate`) and a ``workflow_migrated`` event appended to its
    history naming both versions, both states and what became of each deadline. Flushes;
    the caller commits all or nothing. Raises Conflict if a request moved on since it was planned.
    """
    before = engines.get(name, old).workflow
    after = engines.get(name, new).workflow
    deadlines = DeadlineService(session)
    begin_write(session)
    for move in moves:
        request = session.get_one(Request, move.request_id, with_for_update={"of": Request})
        if request.workflow_version != old or request.state != move.source:
            raise Conflict(
                N_("%(reference)s changed since the plan was made; run it again"),
                {"reference": move.reference},
            )
        request.workflow_version = new
        request.state = move.dest
        request.holder_authority = request.answering_for(after.states[move.dest].owner)
        request.updated_at = now
        if after.states[move.dest].final:
            request.closed_at, request.outcome = now, move.dest
        session.flush()
        moved = deadlines.on_migrate(request, before, after, now)
        record_change(
            session,
            request,
            EventKind.WORKFLOW_MIGRATED,
            data={
                "workflow": name,
                "from_version": old,
                "to_version": new,
                "from": move.source,
                "to": move.dest,
                "deadlines": moved,
                replay.ROW: replay.recorded(
                    session, request, ("workflow_version", *replay.TRANSITION)
                ),
            },
            at=now,
            # Mapped into a final state, it closed: its whole run starts to count (the
            # deadlines it ends are cancelled, which count for nothing).
            stages=after.states[move.dest].final,
            deadlines=deadlines,
        )
