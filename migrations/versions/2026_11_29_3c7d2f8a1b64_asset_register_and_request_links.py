"""asset register and request links

Each assets request's register (items, shares of the disposal, transfers) and the links
between requests (arises from, related to, supplements).

Revision ID: 3c7d2f8a1b64
Revises: 9eb8ae0422a4
Create Date: 2026-11-29 12:34:24.165883
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c7d2f8a1b64"
down_revision: str | None = "c3d8e1f60a27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "asset_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "account",
                "real_estate",
                "vehicle",
                "vessel",
                "securities",
                "cash",
                "crypto_asset",
                "other",
                name="asset_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column(
            "holder_institution",
            sa.String(length=200),
            nullable=True,
            comment="the bank, registry or custodian holding it",
        ),
        sa.Column(
            "identifiers",
            sa.String(length=500),
            nullable=True,
            comment="account number, land registry entry, VIN, wallet address ...",
        ),
        sa.Column(
            "currency", sa.String(length=3), nullable=False, comment="ISO 4217 code of both values"
        ),
        sa.Column("estimated_value", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column(
            "realised_value",
            sa.Numeric(precision=18, scale=2),
            nullable=True,
            comment="what its sale or collection brought, once confiscated",
        ),
        sa.Column(
            "status",
            sa.Enum(
                "sought",
                "frozen",
                "released",
                "confiscated",
                "returned",
                "shared",
                name="asset_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["request.id"],
            name=op.f("fk_asset_item_request_id_request"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_item")),
    )
    with op.batch_alter_table("asset_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_asset_item_request_id"), ["request_id"], unique=False)

    op.create_table(
        "asset_share",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column(
            "recipient",
            sa.String(length=200),
            nullable=False,
            comment="an authority's code, or who else receives (victims, a fund)",
        ),
        sa.Column("percent", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "agreement",
            sa.String(length=200),
            nullable=False,
            comment="reference of the sharing agreement or case-by-case arrangement",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["request.id"],
            name=op.f("fk_asset_share_request_id_request"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_share")),
    )
    with op.batch_alter_table("asset_share", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_asset_share_request_id"), ["request_id"], unique=False)

    op.create_table(
        "asset_transfer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("transferred_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["request.id"],
            name=op.f("fk_asset_transfer_request_id_request"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_transfer")),
    )
    with op.batch_alter_table("asset_transfer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_asset_transfer_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "request_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "arises_from",
                "related_to",
                "supplements",
                name="link_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_by_authority_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_authority_id"],
            ["authority.id"],
            name=op.f("fk_request_link_created_by_authority_id_authority"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["request.id"],
            name=op.f("fk_request_link_source_id_request"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["request.id"],
            name=op.f("fk_request_link_target_id_request"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_link")),
        sa.UniqueConstraint(
            "source_id", "target_id", "kind", name=op.f("uq_request_link_source_id_target_id_kind")
        ),
    )
    with op.batch_alter_table("request_link", schema=None) as batch_op:
        batch_op.create_index("ix_request_link_target", ["target_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("request_link", schema=None) as batch_op:
        batch_op.drop_index("ix_request_link_target")

    op.drop_table("request_link")
    with op.batch_alter_table("asset_transfer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_transfer_request_id"))

    op.drop_table("asset_transfer")
    with op.batch_alter_table("asset_share", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_share_request_id"))

    op.drop_table("asset_share")
    with op.batch_alter_table("asset_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_item_request_id"))

    op.drop_table("asset_item")
