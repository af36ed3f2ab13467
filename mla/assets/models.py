"""The asset register of a request and the links between requests.

Only :mod:`mla.assets.service` (links: :mod:`mla.assets.links`) writes these rows; each
change to a register is also an event in the request's hash-chained history, with the
values it set.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mla.db import Base, StrEnumType, utcnow

# Large enough for any realistic amount, in the currency's major unit, with cents.
MONEY = Numeric(18, 2)


class AssetKind(enum.StrEnum):
    ACCOUNT = "account"
    REAL_ESTATE = "real_estate"
    VEHICLE = "vehicle"
    VESSEL = "vessel"
    SECURITIES = "securities"
    CASH = "cash"
    CRYPTO_ASSET = "crypto_asset"
    OTHER = "other"


class AssetStatus(enum.StrEnum):
    SOUGHT = "sought"
    FROZEN = "frozen"
    RELEASED = "released"
    CONFISCATED = "confiscated"
    RETURNED = "returned"
    SHARED = "shared"


class LinkKind(enum.StrEnum):
    ARISES_FROM = "arises_from"
    RELATED_TO = "related_to"
    SUPPLEMENTS = "supplements"


class AssetItem(Base):
    """One item of property in a request's register."""

    __tablename__ = "asset_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("request.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[AssetKind] = mapped_column(StrEnumType(AssetKind, "asset_kind"))
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(200))
    holder_institution: Mapped[str | None] = mapped_column(
        String(200), comment="the bank, registry or custodian holding it"
    )
    identifiers: Mapped[str | None] = mapped_column(
        String(500), comment="account number, land registry entry, VIN, wallet address ..."
    )
    currency: Mapped[str] = mapped_column(String(3), comment="ISO 4217 code of both values")
    estimated_value: Mapped[Decimal | None] = mapped_column(MONEY)
    realised_value: Mapped[Decimal | None] = mapped_column(
        MONEY, comment="what its sale or collection brought, once confiscated"
    )
    status: Mapped[AssetStatus] = mapped_column(
        StrEnumType(AssetStatus, "asset_status"), default=AssetStatus.SOUGHT
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssetShare(Base):
    """What one recipient is to receive of a request's disposal: a percentage of what was
    realised, or an amount, under an agreement or arrangement (14.2, 14.3)."""

    __tablename__ = "asset_share"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("request.id", ondelete="RESTRICT"), index=True
    )
    recipient: Mapped[str] = mapped_column(
        String(200), comment="an authority's code, or who else receives (victims, a fund)"
    )
    percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    amount: Mapped[Decimal | None] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    agreement: Mapped[str] = mapped_column(
        String(200), comment="reference of the sharing agreement or case-by-case arrangement"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssetTransfer(Base):
    """An amount transferred to a recipient on a date."""

    __tablename__ = "asset_transfer"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("request.id", ondelete="RESTRICT"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    transferred_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RequestLink(Base):
    """``source`` arises from, is related to, or supplements ``target``. Shown only to an
    authority party to both."""

    __tablename__ = "request_link"
    __table_args__ = (
        UniqueConstraint("source_id", "target_id", "kind"),
        Index("ix_request_link_target", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("request.id", ondelete="RESTRICT"))
    target_id: Mapped[int] = mapped_column(ForeignKey("request.id", ondelete="RESTRICT"))
    kind: Mapped[LinkKind] = mapped_column(StrEnumType(LinkKind, "link_kind"))
    created_by_authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="RESTRICT")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
