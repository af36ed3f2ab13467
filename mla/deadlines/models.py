from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from mla.db import Base, StrEnumType, utcnow

# A deadline whose clock runs (neither closed nor paused), as an index's condition.
RUNNING = text("closed_at IS NULL AND paused_at IS NULL")


class Outcome(enum.StrEnum):
    MET = "met"
    MISSED = "missed"
    CANCELLED = "cancelled"


class Deadline(Base):
    """One run of a workflow deadline on one request.

    Opened when the request enters the declaring state, closed (met, missed or cancelled)
    when it leaves the states the deadline runs through; paused while the request waits on
    the other party where the workflow says so. ``next_step_at`` is when the next escalation
    step falls due (None when closed, paused or past the last step): the sweeper reads it
    through an index, so its cost grows with what is due, not with what is open.
    """

    __tablename__ = "deadline"
    __table_args__ = (
        # A request's open deadlines; and, holding what they read, the statistics' stages of
        # an authority's requests and its compliance, without the deadline rows.
        Index(
            "ix_deadline_request_open", "request_id", "closed_at", "name", "outcome", "started_at"
        ),
        Index(
            "ix_deadline_authority_closed", "authority_id", "closed_at", "name", "outcome", "due_at"
        ),
        Index("ix_deadline_name_closed", "name", "closed_at"),
        # The running deadlines alone, by the authority that must meet them and due time:
        # the dashboard's overdue and due-soon lists and counts are range scans of it, their
        # cost the authority's open work whatever the archive holds.
        Index(
            "ix_deadline_running",
            "authority_id",
            "due_at",
            "id",
            sqlite_where=RUNNING,
            postgresql_where=RUNNING,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64), comment="deadline name in the workflow")
    state: Mapped[str] = mapped_column(String(64), comment="the state that declares it")
    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="RESTRICT"),
        comment="the authority that must act; its calendar counts the days",
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime] = mapped_column(
        comment="when it falls due, after extensions and pauses (UTC)"
    )
    closed_at: Mapped[datetime | None]
    outcome: Mapped[Outcome | None] = mapped_column(
        StrEnumType(Outcome, "deadline_outcome"), comment="met, missed or cancelled, once closed"
    )
    paused_at: Mapped[datetime | None] = mapped_column(
        comment="the clock stopped then, while the other party holds the request"
    )
    extended: Mapped[bool] = mapped_column(
        Boolean, default=False, comment="already extended once, with reasons"
    )
    level: Mapped[int] = mapped_column(Integer, default=0, comment="escalation steps fired")
    next_step_at: Mapped[datetime | None] = mapped_column(
        index=True, comment="when the next escalation step is due; the sweeper's index"
    )

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def status(self, now: datetime) -> str:
        """What a clerk sees: met, missed, cancelled, paused, overdue or running."""
        if self.outcome is not None:
            return self.outcome.value
        if self.paused_at is not None:
            return "paused"
        return "overdue" if now > self.due_at else "running"


class AuthorityClosure(Base):
    """A day an authority is closed (beyond weekends and public holidays): not a business day.

    Added by an admin. Deadlines count it from the next computation on (a step scheduled, a
    deadline started, resumed or extended); due times already stored are not moved back.
    """

    __tablename__ = "authority_closure"
    __table_args__ = (UniqueConstraint("authority_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date, comment="local date on the authority's calendar")
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
