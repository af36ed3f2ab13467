"""What every change to a request goes through: the caller's parties, the lock and version
check, the flush, one entry in the hash-chained history, and with it the request's party
rows, search words and statistics' stage runs (:func:`record_change`, the one place they are
written).

:class:`RequestContext` is shared by the parts of the request service (creation, drafts,
events); :class:`~mla.requests.service.RequestService` composes them over one context.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from mla.audit import chain
from mla.audit.models import CHANGES, Event, EventKind
from mla.authorities.models import Authority, User
from mla.config import SETTINGS
from mla.db import utcnow
from mla.deadlines.service import DeadlineService
from mla.errors import N_, Conflict, Message, NotFound
from mla.notify.service import NotificationService
from mla.requests import scope, search
from mla.requests.models import Request, RequestParty
from mla.requests.scope import Actor
from mla.statistics import runs as stage_runs
from mla.workflow.engine import Engine, Engines


def sync_parties(session: Session, request: Request) -> None:
    """Bring ``request``'s party rows in line with the request as flushed: one row per
    party that sees it (:func:`mla.requests.scope.seeing`), each with the copies of the
    columns the lists read. A party whose authority changed (another executing authority)
    starts with nobody assigned: an assignee is always a user of the row's authority. Does
    not flush: the rows go out with the request's own changes (and the chain's head) in the
    history entry's flush (:func:`record_change`)."""
    with session.no_autoflush:
        _sync_rows(request)


def _sync_rows(request: Request) -> None:
    wanted = scope.seeing(request)
    rows = {p.role: p for p in request.parties}
    for role, row in rows.items():
        if role not in wanted:
            request.parties.remove(row)
    closed = request.closed_at is not None
    for role, authority_id in wanted.items():
        found = rows.get(role)
        if found is None:
            row = RequestParty(role=role, authority_id=authority_id)
            request.parties.append(row)
        else:
            row = found
            if row.authority_id != authority_id:
                row.authority_id, row.assignee = authority_id, None
        values = {
            "reference": request.reference,
            "kind": request.kind,
            "state": request.state,
            "urgency": request.urgency,
            "held": request.holder_authority_id == authority_id,
            "closed": closed,
            "created_at": request.created_at,
            "updated_at": request.updated_at,
        }
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)


def record_change(
    session: Session,
    request: Request,
    kind: EventKind,
    *,
    actor_user_id: int | None = None,
    actor_authority_id: int | None = None,
    on_behalf_of_id: int | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
    locked: bool = False,
    stages: bool = False,
    deadlines: DeadlineService | None = None,
) -> Event:
    """Append a change of ``request`` (flushed) to its history
    (:func:`mla.audit.chain.append`; ``locked``: the request's row was locked in this
    transaction, so the chain's head in memory is current) and write its party rows
    (:func:`sync_parties`), when its contents may have changed them its search words
    (:func:`mla.requests.search.stale`), and its statistics' stage runs when ``stages``
    says the change may have moved them (:func:`mla.statistics.runs.sync`, counting on the
    calendars of ``deadlines``) with it: every change to a request ends here."""
    sync_parties(session, request)
    entry = chain.append(
        session,
        request,
        kind,
        actor_user_id=actor_user_id,
        actor_authority_id=actor_authority_id,
        on_behalf_of_id=on_behalf_of_id,
        data=data,
        at=at,
        locked=locked,
    )
    if kind == EventKind.CREATED or search.stale(request):  # else the words are as written
        search.write(session, request.id, search.document(request))
        search.written(request)
    if stages:
        # The deadlines it closed and the request's columns are flushed with the entry; the
        # runs are flushed here, since a step's notifications no longer flush after it.
        stage_runs.sync(session, request, deadlines)
        session.flush()
    return entry


class RequestContext:
    """One unit of work on requests: its session, the loaded workflows, the clock, the
    settings of the services it builds (``base_url``: ``MLA_BASE_URL``, for links in the
    notifications it queues), and what runs after each step inside its transaction
    (``after_step``: e.g. the formal documents a step issues, written with it or not at all),
    each called as ``hook(request, event, actor)``."""

    def __init__(
        self,
        session: Session,
        engines: Engines,
        clock: Callable[[], datetime] = utcnow,
        *,
        base_url: str = SETTINGS["MLA_BASE_URL"][0],
        after_step: Sequence[Callable[[Request, Event, Actor], object]] = (),
    ) -> None:
        self.session = session
        self.engines = engines
        self.clock = clock
        self.base_url = base_url
        self.after_step = after_step
        # Requests read locked for a change (RequestService.get with for_change), by id: the
        # transaction that holds the lock. Another transaction of the session holds none.
        self._read_locked: dict[int, SessionTransaction] = {}

    def read_locked(self, request: Request) -> None:
        """Note that ``request`` was just read locked, as committed now, in the session's
        current transaction (see :meth:`lock`)."""
        transaction = self.session.get_transaction()
        if transaction is not None:
            self._read_locked[request.id] = transaction

    def engine(self, request: Request) -> Engine:
        """The engine of the workflow version ``request`` was opened (or migrated) under."""
        return self.engines.get(request.kind, request.workflow_version)

    def deadlines(self) -> DeadlineService:
        """The deadline service over this session, for one operation (calendars cached)."""
        return DeadlineService(self.session)

    def notifications(self) -> NotificationService:
        """The notification service over this session, with this context's settings."""
        return NotificationService(self.session, self.engines, base_url=self.base_url)

    def parties(self, request: Request, actor: Actor) -> dict[str, int | None]:
        """See :func:`mla.requests.scope.parties`."""
        return scope.parties(request, actor)

    def party_to(self, request: Request, actor: Actor) -> dict[str, int | None]:
        """The actor's parties on ``request`` (see :meth:`parties`); raises NotFound when
        it has none, with the words used for a request that does not exist."""
        parties = scope.parties(request, actor)
        if not parties:
            raise NotFound(N_("no request %(reference)s"), {"reference": request.reference})
        return parties

    def last_change(self, request: Request) -> Event | None:
        """The newest history entry of ``request`` that changed it (see ``CHANGES``)."""
        return self.session.scalar(
            select(Event)
            .where(Event.request_id == request.id, Event.kind.in_([str(k) for k in CHANGES]))
            .order_by(Event.seq.desc())
            .limit(1)
        )

    def _conflict(self, request: Request) -> Conflict:
        last = self.last_change(request)
        if last is None:
            return Conflict(
                N_("%(reference)s was changed by someone else; reload it"),
                {"reference": request.reference},
                code="version_conflict",
            )
        who: str = Message(N_("someone else"))
        if last.actor_user_id is not None:
            who = self.session.get_one(User, last.actor_user_id).username
        elif last.actor_authority_id is not None:
            who = Message(
                N_("the API client of %(code)s"),
                {"code": self.session.get_one(Authority, last.actor_authority_id).code},
            )
        return Conflict(
            N_("%(reference)s was changed by %(who)s at %(at)s UTC; reload it and try again"),
            {
                "reference": request.reference,
                "who": who,
                "at": last.at.strftime("%Y-%m-%d %H:%M:%S"),
            },
            code="version_conflict",
        )

    def lock(self, request: Request, expected_version: int | None) -> None:
        """Lock ``request`` for a change and check it is still the version the actor saw
        (``expected_version``, or the one loaded in this session).

        Requires a unit of work that may write (the boundary begins one: on SQLite it holds
        the write lock already). Locks the row (PostgreSQL) and reads what is committed now,
        so the state acted on is the one checked and a change that won a race is reported,
        not undone. Every change to a request's columns bumps its version, except the chain's
        head (see :func:`mla.audit.chain.append`): when the version locked is the one loaded,
        only the head is taken from the lock's narrow read, and the rest of the row is
        re-read only when it is not. Afterwards ``request.chain_head`` and ``event_count``
        are the locked row's, for :meth:`record` with ``locked=True``. A request read for a
        change (``RequestService.get(..., for_change=True)``) in this transaction and not
        changed since is read no further. Raises Conflict naming who changed it and when.
        """
        reference = request.reference
        seen = request.version_id if expected_version is None else expected_version
        held = self._read_locked.get(request.id)
        if (
            held is not None
            and held is self.session.get_transaction()
            and held.is_active
            and not self.session.is_modified(request)
        ):
            # Read locked in this transaction and not changed since: the row in memory is
            # the committed one, chain head included, and nobody else can move it now.
            if request.version_id != seen:
                raise self._conflict(request)
            return
        try:
            with self.session.no_autoflush:
                row = self.session.execute(
                    select(Request.version_id, Request.chain_head, Request.event_count)
                    .where(Request.id == request.id)
                    .with_for_update()
                ).one()
            if row.version_id == request.version_id and not self.session.is_modified(request):
                set_committed_value(request, "chain_head", row.chain_head)
                set_committed_value(request, "event_count", row.event_count)
            else:
                self.session.refresh(request)
        except OperationalError as exc:
            raise Conflict(
                N_("%(reference)s is being changed by someone else; retry"),
                {"reference": reference},
                code="version_conflict",
            ) from exc
        if request.version_id != seen:
            raise self._conflict(request)

    def flush(self, reference: str) -> None:
        """Flush the changed row of request ``reference`` (named by the caller: a failed
        flush expires the row). Raises Conflict when another transaction changed it first."""
        try:
            self.session.flush()
        except (StaleDataError, OperationalError) as exc:
            raise Conflict(
                N_("%(reference)s was changed by someone else at the same time"),
                {"reference": reference},
                code="version_conflict",
            ) from exc

    def record(
        self,
        request: Request,
        kind: EventKind,
        actor: Actor,
        data: dict[str, Any],
        *,
        on_behalf_of: int | None = None,
        at: datetime | None = None,
        locked: bool = False,
        stages: bool = False,
        deadlines: DeadlineService | None = None,
    ) -> Event:
        """Append to ``request``'s history that ``actor`` (its user, or its authority's API
        client) did ``kind``, with ``data``; ``on_behalf_of``: the external authority whose
        step it recorded; ``at``: when (default: now); ``locked``: :meth:`lock` was called
        on ``request`` in this transaction (the chain's head is then not read again);
        ``stages``: the change may have moved the request's stage runs (see
        :func:`record_change`). Flushes the entry with the request's pending changes; see
        :func:`record_change`. Raises Conflict when another transaction changed
        the request first."""
        reference = request.reference  # still readable after a failed flush expires the row
        try:
            return record_change(
                self.session,
                request,
                kind,
                actor_user_id=actor.user_id,
                actor_authority_id=actor.authority.id,
                on_behalf_of_id=on_behalf_of,
                data=data,
                at=self.clock() if at is None else at,
                locked=locked,
                stages=stages,
                deadlines=deadlines,
            )
        except (StaleDataError, OperationalError) as exc:
            raise Conflict(
                N_("%(reference)s was changed by someone else at the same time"),
                {"reference": reference},
            ) from exc
