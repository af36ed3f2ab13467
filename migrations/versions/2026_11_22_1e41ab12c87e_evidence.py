"""evidence

Revision ID: 1e41ab12c87e
Revises: a2d5d5326de6
Create Date: 2026-11-22 18:05:10.372457
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1e41ab12c87e"
down_revision: str | None = "a2d5d5326de6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column(
            "filename",
            sa.String(length=255),
            nullable=False,
            comment="the uploader's file name, sanitized; shown, never used as a path",
        ),
        sa.Column(
            "media_type",
            sa.String(length=127),
            nullable=False,
            comment="sniffed from the content at upload, not the uploader's claim",
        ),
        sa.Column("size", sa.BigInteger(), nullable=False, comment="plaintext size in bytes"),
        sa.Column(
            "sha256",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of the plaintext (hex), computed while streaming the upload and checked on every download; the evidence's fingerprint",
        ),
        sa.Column(
            "key_id",
            sa.String(length=64),
            nullable=False,
            comment="keyring key that wraps the data key now; changes on key rotation",
        ),
        sa.Column(
            "wrapped_key",
            sa.LargeBinary(length=1024),
            nullable=False,
            comment="the file's data key wrapped under key_id (AES key wrap, RFC 3394); the data key is never stored in clear",
        ),
        sa.Column(
            "storage_key",
            sa.String(length=128),
            nullable=False,
            comment="name of the blob in the evidence store; also bound into every segment's tag",
        ),
        sa.Column(
            "uploaded_by_id",
            sa.Integer(),
            nullable=True,
            comment="the user who uploaded it; null when an authority's system did, by API token",
        ),
        sa.Column(
            "uploaded_by_authority_id",
            sa.Integer(),
            nullable=False,
            comment="the authority on whose behalf it was uploaded",
        ),
        sa.Column(
            "uploaded_by_token_id",
            sa.Integer(),
            nullable=True,
            comment="the API token it was uploaded with, if any",
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="when it was uploaded",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["request.id"],
            name=op.f("fk_attachment_request_id_request"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_authority_id"],
            ["authority.id"],
            name=op.f("fk_attachment_uploaded_by_authority_id_authority"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["user_account.id"],
            name=op.f("fk_attachment_uploaded_by_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_token_id"],
            ["api_token.id"],
            name=op.f("fk_attachment_uploaded_by_token_id_api_token"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_attachment_storage_key")),
    )
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachment_key_id"), ["key_id"], unique=False)
        batch_op.create_index(
            "ix_attachment_request_created", ["request_id", "created_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_index("ix_attachment_request_created")
        batch_op.drop_index(batch_op.f("ix_attachment_key_id"))
    op.drop_table("attachment")
