"""The statistics' own rows: one per completed stage of a request, per authority it counts for.

Written by :func:`mla.statistics.runs.sync` with each step that ends a stage (or closes, opens
again, transmits a request or changes its executing authority), in the same transaction, so
the turnaround table is one range of one covering index: no probe of the
deadlines per request, no business-day count per row at report time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mla.db import Base, JSONType

# The columns the report groups runs by, the last columns both indexes cover.
_GROUPS = ("counterpart_id", "kind", "legal_basis", "urgency", "outcome", "offence_categories")


class StageRun(Base):
    """One completed stage of one request, as one authority party to it counts it.

    A stage is the run of a workflow deadline named in :data:`mla.statistics.runs.STAGES`
    that was met or missed, from entering its state to leaving it, or ``whole``: from
    creation (outgoing) or transmission (incoming) to closure. One row per authority the
    request counts for: its requesting authority (``outgoing``), and once transmitted its
    requested authority and its executing one when another (``incoming``). The group columns
    are the request's as it is now (rewritten whenever they change); the durations are
    counted when the row is written, business days on that authority's calendar (weekend,
    public holidays and closures as they were then) between the local dates of the start
    and the end.
    """

    __tablename__ = "stage_run"
    __table_args__ = (
        # The turnaround table of one authority's period: this range alone, never the rows.
        Index(
            "ix_stage_run_report",
            "authority_id",
            "ended_at",
            "direction",
            "stage",
            "days",
            "business_days",
            *_GROUPS,
            "grounds",
        ),
        # The same runs of one year in the order of the turnaround's histogram (stage,
        # durations, group columns): counted as they are read, without SQLite sorting the
        # period's runs (it has no hash aggregation); ``ended_at`` filtered in the scan.
        Index(
            "ix_stage_run_histogram",
            "authority_id",
            "ended_year",
            "direction",
            "stage",
            "days",
            "business_days",
            *_GROUPS,
            "ended_at",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("request.id", ondelete="CASCADE"), index=True
    )
    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="RESTRICT"),
        comment="the party authority whose statistics count this run",
    )
    direction: Mapped[str] = mapped_column(
        String(8), comment="outgoing (it made the request) or incoming (transmitted to it)"
    )
    stage: Mapped[str] = mapped_column(
        String(32), comment="acknowledgement, decision, execution, or whole"
    )
    deadline_id: Mapped[int | None] = mapped_column(
        Integer, comment="the deadline whose run this is; None for the whole request"
    )
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    ended_year: Mapped[int | None] = mapped_column(
        Integer, comment="the UTC year of ended_at, which ix_stage_run_histogram leads with"
    )
    days: Mapped[float] = mapped_column(
        Float, comment="ended_at - started_at, in days to the tenth"
    )
    business_days: Mapped[int] = mapped_column(
        Integer,
        comment="business days after the start's local date up to and including the end's, "
        "on the authority's calendar when the row was written",
    )
    counterpart_id: Mapped[int | None] = mapped_column(
        Integer, comment="the other central authority: requested (outgoing), requesting (incoming)"
    )
    kind: Mapped[str] = mapped_column(String(32))
    legal_basis: Mapped[str] = mapped_column(String(32))
    urgency: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(32), comment="None while open")
    offence_categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    grounds: Mapped[list[str]] = mapped_column(
        JSONType,
        default=list,
        comment="of the whole request: the grounds given on a transition into its final state",
    )
