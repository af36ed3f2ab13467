"""The request service: the only code that creates requests or changes their state.

Every method takes the caller as an :class:`Actor` and sees only requests the caller's
authority is party to. Methods flush; the boundary (HTTP request, CLI command, worker job)
begins the unit of work as one that may write (:func:`mla.db.begin_write`) and commits. An
event is fired inside the caller's transaction: the state, the holder, the deadlines and the
hash-chained history are written together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session, joinedload

from mla.audit.models import Event, EventKind
from mla.config import SETTINGS
from mla.db import utcnow
from mla.errors import N_, FieldError, Invalid, NotFound, has_nul
from mla.requests import scope
from mla.requests.creation import RequestCreation
from mla.requests.drafts import RequestDrafts
from mla.requests.events import RequestEvents
from mla.requests.models import Request, RequestParty
from mla.requests.recording import RequestContext
from mla.requests.scope import Actor as Actor  # callers take the Actor with the service
from mla.workflow.engine import Engine, Engines

P = RequestParty

# Status polling runs this on every read; built once, since building it costs more than running it.
_VERSION_OF = select(Request.id, Request.version_id).where(
    scope.party_of(bindparam("authority_id")), Request.reference == bindparam("reference")
)
# Every page and step reads its request so: built once too.
_BY_REFERENCE = select(Request).where(
    scope.party_of(bindparam("authority_id")), Request.reference == bindparam("reference")
)
# Read for a change: locked, as committed now. On SQLite the unit of work holds the write
# lock before this read, so the party rows come with it; on PostgreSQL the lock may be
# waited for, after which the request's row is the one committed meanwhile but rows joined
# to it are still those of the statement's start: the party rows are read after it.
_FOR_CHANGE = _BY_REFERENCE.with_for_update(of=Request).execution_options(populate_existing=True)
_FOR_CHANGE_WITH_PARTIES = _FOR_CHANGE.options(joinedload(Request.parties))


# The most requests one supervisor's action assigns: the longest page of the list.
ASSIGN_AT_ONCE = 200


@dataclass(frozen=True, slots=True)
class NextStep:
    """An event the actor's authority can take next; ``needs_role``: the role it needs when
    the actor's own is too low (a clerk sees that a supervisor signs)."""

    event: str
    needs_role: str | None = None


# Called after a step is written, inside its transaction (what the step issues, e.g. its
# formal letter, is written with it or not at all): (service, request, history event, actor).
AfterStep = Callable[["RequestService", Request, Event, Actor], object]


class RequestService:
    """The request service: reads scoped to the caller here; creating, editing and moving
    requests in its parts (:mod:`~mla.requests.creation`, :mod:`~mla.requests.drafts`,
    :mod:`~mla.requests.events`), composed over one :class:`RequestContext`, whose methods
    state the contracts."""

    def __init__(
        self,
        session: Session,
        engines: Engines,
        *,
        clock: Callable[[], datetime] = utcnow,
        base_url: str = SETTINGS["MLA_BASE_URL"][0],
        after_step: Sequence[AfterStep] = (),
    ) -> None:
        self.session = session
        self.engines = engines
        self.clock = clock
        hooks = [partial(hook, self) for hook in after_step]
        self.context = context = RequestContext(
            session, engines, clock, base_url=base_url, after_step=hooks
        )
        events = RequestEvents(context)
        creation = RequestCreation(context, events)
        drafts = RequestDrafts(context)
        # The public surface: each part's methods as they are, with their contracts.
        self.parties = context.parties
        self.create = creation.create
        self.create_and_submit = creation.create_and_submit
        self.create_and_transmit = creation.create_and_transmit
        self.editable_reason = drafts.editable_reason
        self.update = drafts.update
        self.available_events = events.available_events
        self.fire = events.fire
        self.may_assign = events.may_assign
        self.assignable = events.assignable
        self.assign = events.assign

    # --- scope ----------------------------------------------------------------------------

    def scoped(self, actor: Actor) -> Select[Request]:
        """Every query about requests starts here: only those the actor's authority is party to."""
        return select(Request).where(scope.party_of(actor.authority.id))

    def get(self, actor: Actor, reference: str, *, for_change: bool = False) -> Request:
        """The request ``reference`` if the actor's authority is party to it.

        ``for_change``: the caller is about to change it in this unit of work (fire a step,
        assign it, edit it), which must have been begun as one that may write. The row is
        then read locked (``FOR UPDATE`` on PostgreSQL; on SQLite the unit of work holds the
        write lock already, and the party rows are read with it), as committed now even if
        the session held it already; the change's own lock (:meth:`RequestContext.lock`) then reads
        nothing again in this transaction.

        Raises NotFound otherwise, whether or not it exists: existence must not leak.
        """
        if has_nul(reference):
            raise NotFound(N_("no request %(reference)r"), {"reference": reference})
        params = {"authority_id": actor.authority.id, "reference": reference.strip().upper()}
        if for_change:
            sqlite = self.session.get_bind().dialect.name == "sqlite"
            query = _FOR_CHANGE_WITH_PARTIES if sqlite else _FOR_CHANGE
            request = self.session.execute(query, params).unique().scalar_one_or_none()
        else:
            request = self.session.scalar(_BY_REFERENCE, params)
        if request is None:
            raise NotFound(N_("no request %(reference)s"), {"reference": reference})
        if for_change:
            self.context.read_locked(request)
        return request

    def version_of(self, actor: Actor, reference: str) -> tuple[int, int]:
        """(id, version) of request ``reference`` if the actor's authority is party to it:
        one narrow query, for readers that can answer from a cache keyed by version.
        Raises NotFound like :meth:`get`."""
        if has_nul(reference):
            raise NotFound(N_("no request %(reference)r"), {"reference": reference})
        row = self.session.execute(
            _VERSION_OF,
            {"authority_id": actor.authority.id, "reference": reference.strip().upper()},
        ).first()
        if row is None:
            raise NotFound(N_("no request %(reference)s"), {"reference": reference})
        return row.id, row.version_id

    def search(
        self,
        actor: Actor,
        *,
        state: str | None = None,
        kind: str | None = None,
        updated_since: datetime | None = None,
        after: tuple[datetime, int] | None = None,
        limit: int = 50,
    ) -> list[Request]:
        """Requests visible to the actor, newest change first, keyset-paginated by
        ``after`` = (updated_at, id) of the last row of the previous page."""
        # Read through the authority's own party rows: one index range scan (see scope).
        query = select(Request).join(
            P, and_(P.request_id == Request.id, scope.own_rows(actor.authority.id))
        )
        if state:
            query = query.where(P.state == state)
        if kind:
            query = query.where(P.kind == kind)
        if updated_since:
            query = query.where(P.updated_at >= updated_since)
        if after:
            at, last_id = after
            query = query.where(
                or_(P.updated_at < at, and_(P.updated_at == at, P.request_id < last_id))
            )
        query = query.order_by(P.updated_at.desc(), P.request_id.desc()).limit(limit)
        return list(self.session.scalars(query))

    def engine(self, request: Request) -> Engine:
        """The engine of the workflow version ``request`` was opened (or migrated) under."""
        return self.context.engine(request)

    def history(self, request: Request, viewer: Actor | None = None) -> list[Event]:
        """The history of ``request``, oldest first; as ``viewer`` may read it when given:
        without other authorities' assignments (whom they make responsible is theirs)."""
        query = select(Event).where(Event.request_id == request.id)
        if viewer is not None:
            query = query.where(
                or_(
                    Event.kind != str(EventKind.ASSIGNED),
                    Event.actor_authority_id == viewer.authority.id,
                )
            )
        return list(self.session.scalars(query.order_by(Event.seq)))

    # --- the clerk's queue ------------------------------------------------------------------

    def next_steps(self, request: Request, actor: Actor) -> list[NextStep]:
        """What the actor's authority can do next on ``request``: the events open from its
        state to the authority's parties (as on the request page), in definition order,
        leaving out the extension of a deadline, which is never the step itself. Reads
        nothing from the database: the guards (which may ask about deadlines) are judged on
        the request page, when the step is taken."""
        parties = frozenset(self.parties(request, actor))
        if not parties:
            return []
        engine = self.engine(request)
        return [
            NextStep(t.event, t.min_role if engine.denied(t, parties, actor.role) else None)
            for t in engine.workflow.transitions_from(request.state)
            if t.by in parties and t.extends is None
        ]

    def assign_many(
        self, actor: Actor, references: Sequence[str], assignee_id: int | None
    ) -> list[Event]:
        """Assign each request of ``references`` to the user ``assignee_id`` (None: nobody),
        as :meth:`assign` does one by one: one history event each, all in the caller's
        unit of work, so that either all are assigned or none (the boundary rolls back).

        Raises Invalid (field ``reference``) when none or more than :data:`ASSIGN_AT_ONCE`
        are given; otherwise what :meth:`get` and :meth:`assign` raise for the first
        request refused (NotFound for one the actor's authority is no party to)."""
        wanted = list(dict.fromkeys(r.strip().upper() for r in references if r.strip()))
        if not wanted:
            raise Invalid(FieldError("reference", N_("choose at least one request")))
        if len(wanted) > ASSIGN_AT_ONCE:
            raise Invalid(
                FieldError(
                    "reference",
                    N_("choose at most %(limit)s requests at once"),
                    {"limit": ASSIGN_AT_ONCE},
                )
            )
        return [
            self.assign(self.get(actor, ref, for_change=True), assignee_id, actor) for ref in wanted
        ]
