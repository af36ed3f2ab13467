from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mla.db import Base, JSONType, utcnow


class EventKind(enum.StrEnum):
    CREATED = "created"
    TRANSITION = "transition"
    FIELDS_CHANGED = "fields_changed"
    ASSIGNED = "assigned"
    EVIDENCE_UPLOADED = "evidence_uploaded"
    EVIDENCE_DOWNLOADED = "evidence_downloaded"
    EVIDENCE_VERIFIED = "evidence_verified"
    PROGRESS_QUERY = "progress_query"
    COMMENT = "comment"
    WORKFLOW_MIGRATED = "workflow_migrated"
    ASSET_REGISTER = "asset_register"


# Events that change what a request is (as opposed to reads recorded for the audit): the
# last of them tells who changed a request, and the other side's are its news.
CHANGES = (
    EventKind.CREATED,
    EventKind.TRANSITION,
    EventKind.FIELDS_CHANGED,
    EventKind.ASSIGNED,
    EventKind.WORKFLOW_MIGRATED,
)


class Event(Base):
    """One entry of a request's history. Rows are only ever inserted.

    ``hash`` covers the row's contents and ``prev_hash``, so editing, deleting, inserting or
    reordering rows breaks the chain; :func:`mla.audit.chain.verify_request` finds the first break.
    """

    __tablename__ = "event"
    __table_args__ = (
        UniqueConstraint("request_id", "seq"),
        # The dashboard's "changed lately by the other side" reads the last days only.
        Index("ix_event_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id", ondelete="RESTRICT"))
    seq: Mapped[int] = mapped_column(Integer, comment="1, 2, 3 ... within the request")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32), comment="an EventKind value")
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    actor_authority_id: Mapped[int | None] = mapped_column(
        ForeignKey("authority.id", ondelete="RESTRICT"),
        comment="the authority whose user or API token acted",
    )
    on_behalf_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("authority.id", ondelete="RESTRICT"),
        comment="the external authority whose step was recorded for it",
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), comment="SHA-256 over prev_hash and contents")

    def __repr__(self) -> str:
        return f"<Event {self.request_id}#{self.seq} {self.kind}>"
