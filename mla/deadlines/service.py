"""Deadline lifecycle: open, pause, resume, extend and close deadlines as a request moves.

The request service calls :meth:`DeadlineService.on_transition` inside the transaction that
moves the request, so a deadline's start and close are written with the state change or not at
all.
Semantics (from the workflow definition, see ``workflows/README.md``):

- a deadline starts when the request enters the state that declares it, and keeps running
  while the request stays in that state or in its ``runs_through`` states;
- entering a state whose ``clock_stops`` names it pauses it; coming back resumes it, with the
  due time pushed back by the time paused (in the deadline's own unit);
- leaving otherwise closes it: met if on time, missed if late.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from mla.authorities.models import Authority, Treaty
from mla.authorities.treaties import target_overrides
from mla.deadlines.calendar import Calendar
from mla.deadlines.calendar import Duration as CalendarDuration
from mla.deadlines.models import AuthorityClosure, Deadline, Outcome
from mla.errors import N_, Conflict, Label
from mla.requests.models import Request
from mla.workflow.model import Deadline as DeadlineDef
from mla.workflow.model import Duration, Workflow
from mla.workflow.registry import DueLookup, RunningDeadline
from mla.workflow.values import as_date

# Read at every step: built once.
_OPEN = (
    select(Deadline)
    .where(Deadline.request_id == bindparam("request_id"), Deadline.closed_at.is_(None))
    .order_by(Deadline.id)
)
_CLOSURES = select(AuthorityClosure.day).where(
    AuthorityClosure.authority_id == bindparam("authority_id")
)


def _span(duration: Duration, figures: Mapping[str, int]) -> CalendarDuration:
    amount, unit = duration.resolve(figures)
    return CalendarDuration(amount, unit)


class DeadlineService:
    """The deadline service: deadline operations for one unit of work; calendars are cached
    per authority."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._calendars: dict[int, Calendar] = {}
        self._treaties: dict[str, dict[str, int]] = {}

    @staticmethod
    def local_today(authority: Authority, now: datetime) -> date:
        """The date on ``authority``'s wall clock at ``now``."""
        return now.astimezone(ZoneInfo(authority.timezone or "UTC")).date()

    def figures(self, request: Request, wf: Workflow, authority: Authority) -> dict[str, int]:
        """The figures ``authority``'s deadlines on ``request`` count with, weakest first:
        the workflow's targets, the authority's own targets (its admin's overrides), the
        legal basis's figures, then the named bilateral treaty's (law before policy)."""
        basis = (
            wf.legal_bases[request.legal_basis].figures
            if request.legal_basis in wf.legal_bases
            else {}
        )
        own = {k: v for k, v in target_overrides(authority, wf.name).items() if k in wf.targets}
        return {**wf.targets, **own, **basis, **self.treaty_figures(request)}

    def treaty_figures(self, request: Request) -> dict[str, int]:
        """The figures of the bilateral treaty ``request`` names (its ``treaty`` field)."""
        code = request.fields.get("treaty")
        if request.legal_basis != "bilateral" or not isinstance(code, str) or not code:
            return {}
        if code not in self._treaties:
            treaty = self.session.scalar(select(Treaty).where(Treaty.code == code.upper()))
            figures = treaty.figures if treaty is not None else {}
            self._treaties[code] = {k: v for k, v in figures.items() if isinstance(v, int)}
        return self._treaties[code]

    def calendar(self, authority: Authority) -> Calendar:
        cal = self._calendars.get(authority.id)
        if cal is None:
            cal = Calendar(
                authority.country,
                subdivision=authority.holiday_subdivision,
                timezone=authority.timezone,
                closures=self.session.scalars(_CLOSURES, {"authority_id": authority.id}),
            )
            self._calendars[authority.id] = cal
        return cal

    def open_deadlines(self, request: Request) -> list[Deadline]:
        return list(self.session.scalars(_OPEN, {"request_id": request.id}))

    def _next_step(self, deadline: Deadline, definition: DeadlineDef, cal: Calendar) -> None:
        steps = definition.escalation[deadline.level :]
        if deadline.paused_at is not None or not steps:
            deadline.next_step_at = None
            return
        amount, unit = steps[0].offset.resolve({})
        deadline.next_step_at = cal.add(deadline.due_at, CalendarDuration(amount, unit))

    def schedule_next(self, deadline: Deadline, definition: DeadlineDef) -> None:
        """Set ``deadline.next_step_at`` for the step after the ``level`` already fired (the
        sweeper calls this after firing one); None when paused or past the last step."""
        cal = self.calendar(self.session.get_one(Authority, deadline.authority_id))
        self._next_step(deadline, definition, cal)

    def _due(
        self,
        request: Request,
        wf: Workflow,
        definition: DeadlineDef,
        authority: Authority,
        now: datetime,
    ) -> datetime | None:
        cal = self.calendar(authority)
        span = _span(definition.within, self.figures(request, wf, authority))
        field = definition.anchor_field
        if field is not None:
            anchor = as_date(request.fields.get(field))
            if anchor is None:
                return None  # nothing to count from; the guard on the field says why
            return cal.add(cal.start_of_day(anchor), span)
        due = cal.add(now, span)
        if definition.anchor == "needed_by" and request.needed_by is not None:
            due = min(due, cal.end_of_day(request.needed_by))
        return due

    def _start(
        self,
        request: Request,
        wf: Workflow,
        state: str,
        now: datetime,
        running: Collection[str] | None = None,
    ) -> None:
        """Start the deadlines ``state`` declares that are not ``running`` (names; read
        from the database when None)."""
        declared = wf.states[state]
        if running is None:
            running = {d.name for d in self.open_deadlines(request)}
        for definition in declared.deadlines:
            if definition.name in running:
                continue
            if definition.when and not request.fields.get(definition.when):
                continue
            authority = request.answering_for(definition.party or declared.owner)
            cal = self.calendar(authority)
            due = self._due(request, wf, definition, authority, now)
            if due is None:
                continue
            deadline = Deadline(
                request_id=request.id,
                name=definition.name,
                state=state,
                authority_id=authority.id,
                started_at=now,
                due_at=due,
            )
            self._next_step(deadline, definition, cal)
            self.session.add(deadline)

    def on_create(self, request: Request, wf: Workflow, now: datetime) -> None:
        self._start(request, wf, request.state, now)
        self.session.flush()

    def on_transition(
        self,
        request: Request,
        wf: Workflow,
        dest: str | None,
        by: str,
        now: datetime,
        open_deadlines: Sequence[Deadline] | None = None,
    ) -> None:
        """Apply a move into ``dest`` (None: an internal transition), fired by party ``by``.
        ``open_deadlines``: the request's open deadlines, read in this transaction before the
        move (read here when None). Does not flush: the changes and new deadlines are
        written by the caller's next flush, with the request's own.

        A deadline closed because the other party ended the request (e.g. the requesting
        state withdrew it) is cancelled rather than met or missed: nobody owed it any more.
        """
        if dest is None:
            return
        if open_deadlines is None:
            open_deadlines = self.open_deadlines(request)
        with self.session.no_autoflush:  # a calendar's closures are read without flushing
            self._move(request, wf, dest, by, now, open_deadlines)

    def _move(
        self,
        request: Request,
        wf: Workflow,
        dest: str,
        by: str,
        now: datetime,
        open_deadlines: Sequence[Deadline],
    ) -> None:
        entered = wf.states[dest]
        running = set()
        for deadline in open_deadlines:
            declaring, definition = wf.deadline(deadline.name)
            if dest == declaring.name or dest in definition.runs_through:
                running.add(deadline.name)
                if deadline.paused_at is not None:
                    cal = self.calendar(self.session.get_one(Authority, deadline.authority_id))
                    deadline.due_at = cal.shift_for_pause(
                        deadline.due_at, deadline.paused_at, now, definition.within.unit
                    )
                    deadline.paused_at = None
                    self._next_step(deadline, definition, cal)
            elif deadline.name in entered.clock_stops:
                running.add(deadline.name)
                if deadline.paused_at is None:
                    deadline.paused_at = now
                    deadline.next_step_at = None
            else:
                deadline.closed_at = now
                if entered.final and by != (definition.party or declaring.owner):
                    deadline.outcome = Outcome.CANCELLED
                elif now <= deadline.due_at:
                    deadline.outcome = Outcome.MET
                else:
                    deadline.outcome = Outcome.MISSED
                deadline.next_step_at = None
        self._start(request, wf, dest, now, running)

    def due_lookup(
        self, request: Request, open_deadlines: Sequence[Deadline] | None = None
    ) -> DueLookup:
        """What guards ask (see :data:`mla.workflow.registry.DueLookup`): the running
        deadline ``name`` of ``request``, due in its authority's time zone; None when it is
        not running. Reads the open deadlines once, at the first question, unless given
        (``open_deadlines``, read in this transaction)."""
        found: dict[str, RunningDeadline] | None = None

        def due(name: str) -> RunningDeadline | None:
            nonlocal found
            if found is None:
                found = {}
                rows = self.open_deadlines(request) if open_deadlines is None else open_deadlines
                for d in rows:
                    if d.paused_at is None:
                        owner = self.session.get_one(Authority, d.authority_id)
                        local = d.due_at.astimezone(ZoneInfo(owner.timezone or "UTC"))
                        found[d.name] = RunningDeadline(local, d.extended)
            return found.get(name)

        return due

    def counted_dues(self, request: Request, wf: Workflow) -> dict[int, datetime]:
        """Each open deadline's due time as counted from its start and the request's
        contents alone, before pauses and extensions: what :meth:`on_edit` compares."""
        dues = {}
        for deadline in self.open_deadlines(request):
            _declaring, definition = wf.deadline(deadline.name)
            authority = self.session.get_one(Authority, deadline.authority_id)
            due = self._due(request, wf, definition, authority, deadline.started_at)
            if due is not None:
                dues[deadline.id] = due
        return dues

    def on_edit(
        self,
        request: Request,
        wf: Workflow,
        changed: Collection[str],
        before: Mapping[int, datetime],
        now: datetime,
    ) -> None:
        """Follow an edit of the request's contents (a draft's ``needed_by`` or fields).
        ``before``: :meth:`counted_dues` taken before the edit.

        A running deadline counted from a changed value moves by as much as its count
        moved (so time added by a pause or an extension stays); one whose ``when`` field is
        no longer true is cancelled; one of the current state that now has what it needs
        starts."""
        for deadline in self.open_deadlines(request):
            _declaring, definition = wf.deadline(deadline.name)
            if definition.when and not request.fields.get(definition.when):
                deadline.closed_at, deadline.outcome = now, Outcome.CANCELLED
                deadline.next_step_at = None
                continue
            if (definition.anchor_field or definition.anchor) not in changed:
                continue
            authority = self.session.get_one(Authority, deadline.authority_id)
            cal = self.calendar(authority)
            due = self._due(request, wf, definition, authority, deadline.started_at)
            if due is None or deadline.id not in before:
                continue  # the anchor was blanked: keep the date already promised
            deadline.due_at += due - before[deadline.id]
            self._next_step(deadline, definition, cal)
        self.session.flush()
        self._start(request, wf, request.state, now)
        self.session.flush()

    def on_migrate(
        self, request: Request, old: Workflow, new: Workflow, now: datetime
    ) -> dict[str, str]:
        """Bring ``request``'s deadlines in line with workflow ``new`` after its state has
        been mapped into it (``request.state`` is already the new state).

        A running deadline the new version also runs in this state keeps its start, pauses
        and extension: it moves by as much as its count moved (new figures, anchor, party
        and calendar) and is escalated to the new party. Any other is cancelled (nobody owes
        it under the new version). Deadlines the new state declares that are not running
        start now. Returns ``{deadline name: kept|cancelled|started}``. Flushes."""
        here = new.states[request.state]
        done: dict[str, str] = {}
        for deadline in self.open_deadlines(request):
            try:
                declaring, definition = new.deadline(deadline.name)
                _, before_def = old.deadline(deadline.name)
            except KeyError:
                declaring = None
            runs = declaring is not None and (
                request.state == declaring.name
                or request.state in definition.runs_through
                or (deadline.paused_at is not None and deadline.name in here.clock_stops)
            )
            if declaring is None or not runs:
                deadline.closed_at, deadline.outcome = now, Outcome.CANCELLED
                deadline.next_step_at = None
                done[deadline.name] = "cancelled"
                continue
            before_owner = self.session.get_one(Authority, deadline.authority_id)
            before = self._due(request, old, before_def, before_owner, deadline.started_at)
            authority = request.answering_for(definition.party or declaring.owner)
            cal = self.calendar(authority)
            after = self._due(request, new, definition, authority, deadline.started_at)
            if before is not None and after is not None:
                deadline.due_at += after - before
            deadline.authority_id = authority.id
            deadline.state = declaring.name
            self._next_step(deadline, definition, cal)
            done[deadline.name] = "kept"
        self.session.flush()
        running = {d.name for d in self.open_deadlines(request)}
        self._start(request, new, request.state, now)
        self.session.flush()
        for d in self.open_deadlines(request):
            if d.name not in running:
                done[d.name] = "started"
        return done

    def extend(self, request: Request, wf: Workflow, name: str, now: datetime) -> Deadline:
        """Extend the open deadline ``name`` once by its definition's ``extension``."""
        _declaring, definition = wf.deadline(name)
        deadline = next((d for d in self.open_deadlines(request) if d.name == name), None)
        if deadline is None:
            raise Conflict(
                N_("the deadline %(name)s is not running"), {"name": Label(definition.labels)}
            )
        if deadline.extended or definition.extension is None:
            raise Conflict(
                N_("the deadline %(name)s can be extended only once"),
                {"name": Label(definition.labels)},
            )
        authority = self.session.get_one(Authority, deadline.authority_id)
        cal = self.calendar(authority)
        deadline.due_at = cal.add(
            deadline.due_at, _span(definition.extension, self.figures(request, wf, authority))
        )
        deadline.extended = True
        self._next_step(deadline, definition, cal)
        self.session.flush()
        return deadline
