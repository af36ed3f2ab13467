"""deadlines

Revision ID: a2d5d5326de6
Revises: 0ff67d1dc4b5
Create Date: 2026-11-22 17:58:35.611196
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a2d5d5326de6"
down_revision: str | None = "0ff67d1dc4b5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deadline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column(
            "name", sa.String(length=64), nullable=False, comment="deadline name in the workflow"
        ),
        sa.Column(
            "state", sa.String(length=64), nullable=False, comment="the state that declares it"
        ),
        sa.Column(
            "authority_id",
            sa.Integer(),
            nullable=False,
            comment="the authority that must act; its calendar counts the days",
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "due_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="when it falls due, after extensions and pauses (UTC)",
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "met",
                "missed",
                "cancelled",
                name="deadline_outcome",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
            comment="met, missed or cancelled, once closed",
        ),
        sa.Column(
            "paused_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="the clock stopped then, while the other party holds the request",
        ),
        sa.Column(
            "extended", sa.Boolean(), nullable=False, comment="already extended once, with reasons"
        ),
        sa.Column("level", sa.Integer(), nullable=False, comment="escalation steps fired"),
        sa.Column(
            "next_step_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="when the next escalation step is due; the sweeper's index",
        ),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_deadline_authority_id_authority"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["request.id"],
            name=op.f("fk_deadline_request_id_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadline")),
    )
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deadline_next_step_at"), ["next_step_at"], unique=False
        )
        batch_op.create_index("ix_deadline_request_open", ["request_id", "closed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.drop_index("ix_deadline_request_open")
        batch_op.drop_index(batch_op.f("ix_deadline_next_step_at"))

    op.drop_table("deadline")
