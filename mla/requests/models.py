from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mla.authorities.models import Authority, User
from mla.db import Base, JSONType, StrEnumType, utcnow

GENESIS_HASH = "0" * 64
# After the party, what the statistics' covering indexes hold: closure first (the ranges of
# a period and of the open requests), then every other column the report reads.
STATISTICS_COVERS = (
    "closed_at",
    "created_at",
    "transmitted_at",
    "requesting_authority_id",
    "requested_authority_id",
    "executing_authority_id",
    "holder_authority_id",
    "kind",
    "legal_basis",
    "urgency",
    "outcome",
    "offence_categories",
    "id",
)


class Urgency(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class OffenceCategory(enum.StrEnum):
    """The closed list of offence categories (LEGAL.md "Statistics": the seeds and Palermo's
    protocols); several may apply to one request."""

    TRAFFICKING_IN_PERSONS = "trafficking_in_persons"
    SMUGGLING_OF_MIGRANTS = "smuggling_of_migrants"
    FIREARMS_TRAFFICKING = "firearms_trafficking"
    DRUG_TRAFFICKING = "drug_trafficking"
    MONEY_LAUNDERING = "money_laundering"
    CORRUPTION = "corruption"
    KIDNAPPING = "kidnapping"
    CYBERCRIME = "cybercrime"
    TERRORISM = "terrorism"
    OTHER = "other"


class Request(Base):
    """One request for mutual legal assistance or extradition, as a state machine's model.

    ``state`` belongs to the workflow ``kind`` at ``workflow_version``; ``holder_authority_id``
    is denormalized from the state's owner party so that queues are one indexed query.
    Only :mod:`mla.requests.service` changes a request.
    """

    __tablename__ = "request"
    __table_args__ = (
        Index("ix_request_holder_state", "holder_authority_id", "state"),
        Index("ix_request_requesting_updated", "requesting_authority_id", "updated_at", "id"),
        Index("ix_request_requested_updated", "requested_authority_id", "updated_at", "id"),
        Index("ix_request_executing_updated", "executing_authority_id", "updated_at", "id"),
        # Completion estimates read the latest closed requests of a kind (and counterpart).
        Index("ix_request_kind_closed", "kind", "closed_at"),
        Index("ix_request_kind_requested_closed", "kind", "requested_authority_id", "closed_at"),
        # Statistics read an authority's requests by party through these alone, never the
        # rows (mla.statistics.scope.STATISTICS_COLUMNS): each holds every column they read.
        *[
            Index(
                f"ix_request_{role}_stats",
                f"{role}_authority_id",
                *[c for c in STATISTICS_COVERS if c != f"{role}_authority_id"],
            )
            for role in ("requesting", "requested", "executing")
        ],
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(
        String(32), unique=True, comment="e.g. MLA-ARG-2026-00042; never reused"
    )
    their_reference: Mapped[str | None] = mapped_column(
        String(100), comment="the requesting state's own case number"
    )
    kind: Mapped[str] = mapped_column(String(32), comment="workflow name, e.g. mla, extradition")
    workflow_version: Mapped[int] = mapped_column(
        Integer, comment="the workflow version the request was opened under; it keeps it"
    )
    state: Mapped[str] = mapped_column(String(64))
    holder_authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="RESTRICT"), comment="who holds the request now"
    )
    requesting_authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="RESTRICT")
    )
    requested_authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="RESTRICT")
    )
    executing_authority_id: Mapped[int | None] = mapped_column(
        ForeignKey("authority.id", ondelete="RESTRICT")
    )
    legal_basis: Mapped[str] = mapped_column(
        String(32), comment="code of the treaty or basis invoked, e.g. untoc-18, iace"
    )
    urgency: Mapped[Urgency] = mapped_column(
        StrEnumType(Urgency, "urgency"), default=Urgency.NORMAL
    )
    needed_by: Mapped[date | None] = mapped_column(
        Date, comment="date by which the requesting state asked for assistance (Palermo 18.24)"
    )
    needed_by_reason: Mapped[str | None] = mapped_column(Text)
    offence_categories: Mapped[list[str]] = mapped_column(
        JSONType,
        default=list,
        server_default=text("'[]'"),
        comment="OffenceCategory codes, several allowed; counted by the statistics",
    )
    fields: Mapped[dict[str, Any]] = mapped_column(
        JSONType, default=dict, comment="the request's contents, validated by the workflow"
    )
    confidential: Mapped[bool] = mapped_column(
        Boolean, default=False, comment="the requesting state asked for confidentiality (18.20)"
    )
    outcome: Mapped[str | None] = mapped_column(String(32), comment="final outcome, once closed")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, comment="last change of state or contents (not reads)"
    )
    closed_at: Mapped[datetime | None]
    transmitted_at: Mapped[datetime | None] = mapped_column(
        comment="first handed to the requested side; until then only the requesting side sees it"
    )
    version_id: Mapped[int] = mapped_column(Integer, comment="optimistic lock counter")
    chain_head: Mapped[str] = mapped_column(
        String(64), default=GENESIS_HASH, comment="hash of the last event in the history"
    )
    event_count: Mapped[int] = mapped_column(Integer, default=0)

    __mapper_args__ = {"version_id_col": version_id}

    requesting_authority: Mapped[Authority] = relationship(
        foreign_keys=[requesting_authority_id], lazy="joined"
    )
    requested_authority: Mapped[Authority] = relationship(
        foreign_keys=[requested_authority_id], lazy="joined"
    )
    executing_authority: Mapped[Authority | None] = relationship(
        foreign_keys=[executing_authority_id], lazy="joined"
    )
    holder_authority: Mapped[Authority] = relationship(foreign_keys=[holder_authority_id])
    parties: Mapped[list[RequestParty]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RequestParty.role"
    )

    @property
    def executing_authority_code(self) -> str | None:
        """What the workflow's guards read (they know codes, not rows)."""
        return self.executing_authority.code if self.executing_authority else None

    @property
    def requested_authority_code(self) -> str:
        return self.requested_authority.code

    @property
    def requested_languages(self) -> tuple[str, ...]:
        """The languages the requested authority accepts requests in (Palermo 18.14)."""
        return tuple(self.requested_authority.languages or ())

    def authority_of(self, party: str) -> Authority | None:
        """The authority that is ``party`` (requesting, requested, executing) on this request;
        the executing one is None until the requested authority assigns it."""
        if party == "requesting":
            return self.requesting_authority
        if party == "requested":
            return self.requested_authority
        return self.executing_authority

    def answering_for(self, party: str) -> Authority:
        """The authority answering for ``party``: :meth:`authority_of`, except that the
        requested central authority answers for the executing party until it assigns one.
        Who holds the request in a state ``party`` owns, and whose deadlines run there."""
        return self.authority_of(party) or self.requested_authority

    def party_row(self, authority_id: int) -> RequestParty | None:
        """The row of the authority ``authority_id`` among the parties that see the request."""
        return next((p for p in self.parties if p.authority_id == authority_id), None)

    def assignee_for(self, authority_id: int) -> User | None:
        """Who the authority ``authority_id`` made responsible for the request (its own
        staff; each party authority has its own), or None."""
        row = self.party_row(authority_id)
        return row.assignee if row is not None else None

    def assignee_id_for(self, authority_id: int) -> int | None:
        row = self.party_row(authority_id)
        return row.assignee_id if row is not None else None

    def __repr__(self) -> str:
        return f"<Request {self.reference} {self.state}>"


class RequestParty(Base):
    """One authority that sees a request, as one of its parties: the requesting authority
    from the start, the requested and executing ones once it has been transmitted to them
    (:func:`mla.requests.scope.seeing`). The row carries that authority's own assignee and
    copies of the request's columns its lists sort and filter by, so that each of its pages
    is one index range scan over its own rows however many requests there are.

    Written only by :func:`mla.requests.recording.sync_parties`, with every change of the
    request (so the copies cannot drift); the assignee only by the assignment.
    """

    __tablename__ = "request_party"
    __table_args__ = (
        # One index per page of the list (each filter, each order) and of the queue, each
        # led by the authority: a page is a range scan of the authority's own rows.
        Index("ix_request_party_updated", "authority_id", "updated_at", "request_id"),
        Index("ix_request_party_created", "authority_id", "created_at", "request_id"),
        Index("ix_request_party_reference", "authority_id", "reference"),
        Index("ix_request_party_state", "authority_id", "state", "updated_at", "request_id"),
        Index("ix_request_party_kind", "authority_id", "kind", "updated_at", "request_id"),
        Index("ix_request_party_urgency", "authority_id", "urgency", "updated_at", "request_id"),
        Index("ix_request_party_held", "authority_id", "held", "updated_at", "request_id"),
        Index("ix_request_party_mine", "authority_id", "assignee_id", "updated_at", "request_id"),
        # The queue (open, held), its groups by assignee, and the workload.
        Index(
            "ix_request_party_open", "authority_id", "closed", "held", "updated_at", "request_id"
        ),
        Index(
            "ix_request_party_open_assignee",
            "authority_id",
            "closed",
            "held",
            "assignee_id",
            "updated_at",
        ),
        Index("ix_request_party_assignee_id", "assignee_id"),
    )

    request_id: Mapped[int] = mapped_column(
        ForeignKey("request.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(
        String(16), primary_key=True, comment="requesting, requested or executing"
    )
    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="RESTRICT"), comment="the authority that is this party"
    )
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"),
        comment="the user of this authority responsible for the request; no other party sees it",
    )
    # Copies of the request's columns (see the class docstring).
    reference: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(64))
    urgency: Mapped[Urgency] = mapped_column(StrEnumType(Urgency, "urgency"))
    held: Mapped[bool] = mapped_column(Boolean, comment="this authority holds the request now")
    closed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    request: Mapped[Request] = relationship(back_populates="parties")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])


class ReferenceCounter(Base):
    """The last number handed out per reference prefix and year (e.g. MLA-ARG, 2026)."""

    __tablename__ = "reference_counter"

    prefix: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
