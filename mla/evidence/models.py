"""The attachment row: what is known about one encrypted evidence file.

The blob itself (ciphertext, format in ``FORMAT.md``) lives in the evidence store under
``storage_key``; the row holds what is needed to find, decrypt and check it. Its custody
events (uploaded, downloaded, verified) live in the request's hash-chained history.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mla.authorities.models import Authority, User
from mla.db import Base, utcnow
from mla.requests.models import Request


class Attachment(Base):
    """One evidence file attached to a request. Only :mod:`mla.evidence.service` writes it;
    rows are never deleted (evidence is withdrawn by a workflow step, not by erasing it)."""

    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_request_created", "request_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id", ondelete="RESTRICT"))
    filename: Mapped[str] = mapped_column(
        String(255), comment="the uploader's file name, sanitized; shown, never used as a path"
    )
    media_type: Mapped[str] = mapped_column(
        String(127), comment="sniffed from the content at upload, not the uploader's claim"
    )
    size: Mapped[int] = mapped_column(BigInteger, comment="plaintext size in bytes")
    sha256: Mapped[str] = mapped_column(
        String(64),
        comment="SHA-256 of the plaintext (hex), computed while streaming the upload and "
        "checked on every download; the evidence's fingerprint",
    )
    key_id: Mapped[str] = mapped_column(
        String(64),
        index=True,
        comment="keyring key that wraps the data key now; changes on key rotation",
    )
    wrapped_key: Mapped[bytes] = mapped_column(
        LargeBinary(1024),
        comment="the file's data key wrapped under key_id (AES key wrap, RFC 3394); the data "
        "key is never stored in clear",
    )
    storage_key: Mapped[str] = mapped_column(
        String(128),
        unique=True,
        comment="name of the blob in the evidence store; also bound into every segment's tag",
    )
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT"),
        comment="the user who uploaded it; null when an authority's system did, by API token",
    )
    uploaded_by_authority_id: Mapped[int] = mapped_column(
        ForeignKey("authority.id", ondelete="RESTRICT"),
        comment="the authority on whose behalf it was uploaded",
    )
    uploaded_by_token_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_token.id", ondelete="SET NULL"),
        comment="the API token it was uploaded with, if any",
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, comment="when it was uploaded")

    request: Mapped[Request] = relationship()
    uploaded_by: Mapped[User | None] = relationship()
    uploaded_by_authority: Mapped[Authority] = relationship()

    def __repr__(self) -> str:
        return f"<Attachment {self.id} {self.filename!r} of request {self.request_id}>"
