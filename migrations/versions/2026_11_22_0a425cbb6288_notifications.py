"""notifications

Revision ID: 0a425cbb6288
Revises: 1e41ab12c87e
Create Date: 2026-11-22 18:05:10.883455
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0a425cbb6288"
down_revision: str | None = "1e41ab12c87e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "authority_closure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column(
            "day", sa.Date(), nullable=False, comment="local date on the authority's calendar"
        ),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_authority_closure_authority_id_authority"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authority_closure")),
        sa.UniqueConstraint(
            "authority_id", "day", name=op.f("uq_authority_closure_authority_id_day")
        ),
    )
    op.create_table(
        "webhook_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column(
            "url", sa.String(length=2048), nullable=False, comment="http(s) URL the events go to"
        ),
        sa.Column(
            "secret_sealed",
            sa.LargeBinary(),
            nullable=False,
            comment="signing secret: nonce + AES-GCM ciphertext; never plaintext",
        ),
        sa.Column("events", _json(), nullable=True, comment="event types wanted; null means all"),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_webhook_subscription_authority_id_authority"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscription")),
    )
    with op.batch_alter_table("webhook_subscription", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_subscription_authority_id"), ["authority_id"], unique=False
        )

    op.create_table(
        "escalation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deadline_id", sa.Integer(), nullable=False),
        sa.Column(
            "level", sa.Integer(), nullable=False, comment="the step of the ladder (1-based)"
        ),
        sa.Column(
            "fired_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="when the sweeper fired it (its --now time)",
        ),
        sa.ForeignKeyConstraint(
            ["deadline_id"],
            ["deadline.id"],
            name=op.f("fk_escalation_deadline_id_deadline"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation")),
        sa.UniqueConstraint("deadline_id", "level", name=op.f("uq_escalation_deadline_id_level")),
    )
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "email",
                "webhook",
                "in_app",
                name="notification_channel",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "event",
            sa.String(length=64),
            nullable=False,
            comment="what happened, e.g. request.state_changed, deadline.escalated",
        ),
        sa.Column(
            "authority_id",
            sa.Integer(),
            nullable=False,
            comment="the recipient's authority; listings are scoped to it",
        ),
        sa.Column("user_id", sa.Integer(), nullable=True, comment="recipient user, if a person"),
        sa.Column(
            "subscription_id",
            sa.Integer(),
            nullable=True,
            comment="recipient webhook subscription, if a system",
        ),
        sa.Column(
            "address",
            sa.String(length=254),
            nullable=True,
            comment="e-mail address the message goes to (snapshot)",
        ),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column(
            "payload",
            _json(),
            nullable=False,
            comment="e-mail text, webhook JSON body or in-app text and link",
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "dead",
                name="notification_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="when the dispatcher next tries; None once sent or dead",
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True, comment="the request concerned"),
        sa.Column(
            "deadline_id", sa.Integer(), nullable=True, comment="the deadline that escalated"
        ),
        sa.Column("level", sa.Integer(), nullable=True, comment="the escalation step (1-based)"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "read_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="in-app: when the user read it",
        ),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_notification_authority_id_authority"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["deadline_id"],
            ["deadline.id"],
            name=op.f("fk_notification_deadline_id_deadline"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["request.id"],
            name=op.f("fk_notification_request_id_request"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscription.id"],
            name=op.f("fk_notification_subscription_id_webhook_subscription"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_notification_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_authority_id"), ["authority_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notification_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notification_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notification_subscription_id"), ["subscription_id"], unique=False
        )
        batch_op.create_index(
            "ix_notification_user_unread", ["user_id", "channel", "read_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_user_unread")
        batch_op.drop_index(batch_op.f("ix_notification_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_notification_request_id"))
        batch_op.drop_index(batch_op.f("ix_notification_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_notification_authority_id"))
    op.drop_table("notification")
    op.drop_table("escalation")
    with op.batch_alter_table("webhook_subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_subscription_authority_id"))
    op.drop_table("webhook_subscription")
    op.drop_table("authority_closure")
