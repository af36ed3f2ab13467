"""The request's path at a glance: the states it passed through, where it is, and the steps
that can come next (who takes each), in the reader's language. Escape steps open from every
state (withdraw) are listed once rather than drawn from every state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mla.audit.models import Event, EventKind
from mla.requests.models import Request
from mla.web.i18n import lang
from mla.workflow.model import Transition, Workflow, label


@dataclass(frozen=True)
class Stop:
    """A state the request was in: its label, its owner party, the step that brought it
    there (None for the first) and when."""

    state: str
    owner: str
    step: str | None
    at: datetime | None


@dataclass(frozen=True)
class Step:
    """A step that can come next: its label, where it leads (None: it stays), the party that
    takes it and that party's authority code (None when not yet named)."""

    event: str
    dest: str | None
    party: str
    authority: str | None
    irreversible: bool


@dataclass(frozen=True)
class RequestPath:
    passed: list[Stop]
    current: Stop
    next: list[Step]
    anytime: list[Step]


def _stop(wf: Workflow, state: str, step: str | None, at: datetime | None) -> Stop:
    s = wf.states.get(state)
    name = label(s.labels, lang()) if s else state
    return Stop(name, s.owner if s else "", step, at)


def _step(wf: Workflow, req: Request, t: Transition) -> Step:
    dest = wf.states.get(t.dest) if t.dest else None
    authority = req.authority_of(t.by)
    return Step(
        event=label(t.labels, lang()),
        dest=label(dest.labels, lang()) if dest else None,
        party=t.by,
        authority=authority.code if authority is not None else None,
        irreversible=wf.is_irreversible(t, req.state),
    )


def request_path(wf: Workflow, req: Request, history: list[Event]) -> RequestPath:
    """The path of ``req`` under ``wf`` from its ``history`` (oldest first)."""
    stops: list[Stop] = []
    labels = {t.event: label(t.labels, lang()) for t in wf.transitions}
    for e in history:
        d = e.data or {}
        if e.kind == EventKind.CREATED and d.get("state"):
            stops.append(_stop(wf, str(d["state"]), None, e.at))
        elif e.kind == EventKind.TRANSITION and d.get("to") and d.get("to") != d.get("from"):
            event = str(d.get("event", ""))
            stops.append(_stop(wf, str(d["to"]), labels.get(event, event), e.at))
        elif e.kind == EventKind.WORKFLOW_MIGRATED and d.get("to") != d.get("from"):
            stops.append(_stop(wf, str(d["to"]), None, e.at))
    if not stops or stops[-1].state != _stop(wf, req.state, None, None).state:
        stops.append(_stop(wf, req.state, None, None))
    steps: list[Step] = []
    anytime: list[Step] = []
    seen: set[str] = set()
    for t in wf.transitions_from(req.state):
        if t.event in seen:
            continue
        seen.add(t.event)
        (anytime if wf.from_anywhere(t) else steps).append(_step(wf, req, t))
    return RequestPath(stops[:-1], stops[-1], steps, anytime)
