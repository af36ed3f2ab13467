from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mla.authorities.models import Authority, Role
from mla.db import Base, JSONType, StrEnumType, utcnow


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
    role: Mapped[Role] = mapped_column(
        StrEnumType(Role, "role"),
        default=Role.CLERK,
        server_default=Role.CLERK.value,
        comment="the role the calling system acts with; above clerk is a deliberate delegation",
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    authority: Mapped[Authority] = relationship(lazy="joined")


class ProgressQuery(Base):
    """When an authority last had a progress query on a request recorded in its history.

    Palermo 18.24 reads are audited, but at most once per authority and request per hour so
    that polling does not turn every read into a write; this row is the throttle, the history
    event (``EventKind.PROGRESS_QUERY``) is the record.
    """

    __tablename__ = "api_progress_query"

    authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="CASCADE"), primary_key=True
    )
    request_id: Mapped[int] = mapped_column(
        ForeignKey("request.id", ondelete="CASCADE"), primary_key=True
    )
    recorded_at: Mapped[datetime] = mapped_column(
        comment="when the last progress query was recorded in the request's history"
    )
