"""api

Revision ID: 0cd021e38fce
Revises: 0a425cbb6288
Create Date: 2026-11-22 18:05:11.343682
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0cd021e38fce"
down_revision: str | None = "0a425cbb6288"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "role",
                sa.Enum(
                    "clerk",
                    "supervisor",
                    "admin",
                    name="role",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                server_default="clerk",
                nullable=False,
                comment="the role the calling system acts with; above clerk is a deliberate delegation",
            )
        )

    op.create_table(
        "api_progress_query",
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="when the last progress query was recorded in the request's history",
        ),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_api_progress_query_authority_id_authority"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["request.id"],
            name=op.f("fk_api_progress_query_request_id_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("authority_id", "request_id", name=op.f("pk_api_progress_query")),
    )


def downgrade() -> None:
    op.drop_table("api_progress_query")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        # SQLite's batch copy would otherwise keep the CHECK on a column it no longer has.
        batch_op.drop_constraint(op.f("ck_api_token_role"), type_="check")
        batch_op.drop_column("role")
