"""treaties and per-authority targets

Revision ID: 5e7a1c9d2b40
Revises: 0cd021e38fce
Create Date: 2026-11-29 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "5e7a1c9d2b40"
down_revision: str | None = "0cd021e38fce"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "treaty",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "code",
            sa.String(length=32),
            nullable=False,
            comment="short stable code requests name it by, e.g. ARG-MEX-1990",
        ),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column(
            "state_a",
            sa.String(length=2),
            nullable=False,
            comment="ISO 3166-1 alpha-2 of one party",
        ),
        sa.Column(
            "state_b",
            sa.String(length=2),
            nullable=False,
            comment="ISO 3166-1 alpha-2 of the other",
        ),
        sa.Column(
            "figures",
            JSON,
            nullable=False,
            comment="its deadline figures by name (e.g. decide_days: 18), over the basis defaults",
        ),
        sa.Column(
            "reference",
            sa.Text(),
            nullable=True,
            comment="where its text is published (official gazette, treaty series)",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treaty")),
        sa.UniqueConstraint("code", name=op.f("uq_treaty_code")),
    )
    with op.batch_alter_table("authority", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "target_overrides",
                JSON,
                server_default="{}",
                nullable=False,
                comment="its own service-level targets per workflow, e.g. {mla: {decide_days: 20}}",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("authority", schema=None) as batch_op:
        batch_op.drop_column("target_overrides")
    op.drop_table("treaty")
