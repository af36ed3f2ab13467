"""server-side sessions; throttling replaces the account lockout

Sessions move to the ``user_session`` table, so every user signs in again after the upgrade
(cookies from before carry no session id). The lockout columns go: failed sign-ins are now
counted in the web processes' memory, never against the account.

Revision ID: 9eb8ae0422a4
Revises: 0cd021e38fce
Create Date: 2026-11-29 11:45:19.712818
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9eb8ae0422a4"
down_revision: str | None = "5b1f0e7c2a91"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "id_hash",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of the session id in the cookie; never the id",
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="when the user signed in",
        ),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="last request, to within a minute; the idle limit counts from here",
        ),
        sa.Column(
            "expires_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="absolute end, however active the session is",
        ),
        sa.Column(
            "ended_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="when sign-out, deactivation or a password change ended it",
        ),
        sa.Column(
            "end_reason",
            sa.Enum(
                "signed_out",
                "deactivated",
                "password_changed",
                "password_reset",
                name="session_end",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
            comment="why it was ended",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_user_session_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("id_hash", name=op.f("uq_user_session_id_hash")),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_user_session_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_user_session_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_session_user_id"))
        batch_op.drop_index(batch_op.f("ix_user_session_expires_at"))

    op.drop_table("user_session")
