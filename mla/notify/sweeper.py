"""The sweeper: fires the escalation steps that have fallen due.

Cost: one range scan of the ``next_step_at`` index, ``ORDER BY next_step_at LIMIT batch``; a
deadline enters that range only when its next step is due, so a sweep reads what is due, not
what is open (``bench/sweep.py`` measures it).

Exactly once: a step fires by inserting ``escalation (deadline_id, level)`` under a unique key
(``ON CONFLICT DO NOTHING``); its notifications are queued only if that insert wrote a row,
in the same transaction. On PostgreSQL the due rows are taken ``FOR UPDATE SKIP LOCKED``, so
concurrent sweepers share the work instead of waiting for each other; on SQLite the sweep
takes the database's write lock first, so sweepers run one after another.

A deadline whose sweeper was down past several steps fires them all, in order, in one sweep
(each message states whether the deadline is still ahead or already passed).

The caller commits (the worker: one transaction per batch).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from mla.config import SETTINGS
from mla.deadlines.models import Deadline
from mla.notify.models import Escalation
from mla.notify.service import NotificationService
from mla.requests.models import Request
from mla.workflow.engine import Engines


@dataclass(frozen=True)
class SweepResult:
    deadlines: int  # deadlines taken (due and not locked by another sweeper)
    fired: int  # steps fired by this sweep
    skipped: int  # steps another sweeper had already fired
    notifications: int


def sweep(
    session: Session,
    engines: Engines,
    now: datetime,
    batch: int = 100,
    *,
    base_url: str = SETTINGS["MLA_BASE_URL"][0],
) -> SweepResult:
    """Fire every escalation step due at ``now`` of at most ``batch`` deadlines (earliest
    first), queue their notifications, and advance each deadline's ``level`` and
    ``next_step_at``. Requires a unit of work that may write (the worker's
    :func:`~mla.db.unit_of_work`: on SQLite sweepers then run one after another). Flushes;
    the caller commits. A result with ``deadlines == batch`` means more may be due: sweep
    again after committing.
    """
    dialect = session.get_bind().dialect.name
    query = (
        select(Deadline)
        .where(Deadline.next_step_at <= now)
        .order_by(Deadline.next_step_at, Deadline.id)
        .limit(batch)
    )
    if dialect == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Deadline)
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    deadlines = list(session.scalars(query))
    notify = NotificationService(session, engines, base_url=base_url)
    fired = skipped = queued = 0
    for deadline in deadlines:
        request = session.get_one(Request, deadline.request_id)
        wf = engines.get(request.kind, request.workflow_version).workflow
        _, definition = wf.deadline(deadline.name)
        while deadline.next_step_at is not None and deadline.next_step_at <= now:
            if deadline.level >= len(definition.escalation):
                deadline.next_step_at = None
                break
            step = definition.escalation[deadline.level]
            inserted = session.execute(
                insert(Escalation)
                .values(deadline_id=deadline.id, level=step.level, fired_at=now)
                .on_conflict_do_nothing(index_elements=["deadline_id", "level"])
                .returning(Escalation.id)
            ).scalar_one_or_none()
            if inserted is None:
                skipped += 1
            else:
                fired += 1
                queued += len(notify.escalate(deadline, step, now))
            deadline.level = step.level
            notify.clocks.schedule_next(deadline, definition)
        session.flush()
    return SweepResult(len(deadlines), fired, skipped, queued)
