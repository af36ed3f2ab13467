from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mla.authorities.models import Authority
from mla.db import Base, JSONType, utcnow


class ApiToken(Base):
    """A bearer token with which an authority's case system calls the API."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), index=True
    )
    prefix: Mapped[str] = mapped_column(String(16), comment="first characters, to recognise it")
    secret_hash: Mapped[str] = mapped_column(
        String(64), unique=True, comment="SHA-256 of the token; the token itself is never stored"
    )
    scopes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    authority: Mapped[Authority] = relationship(lazy="joined")
