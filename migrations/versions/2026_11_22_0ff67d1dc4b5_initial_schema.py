"""initial schema

Revision ID: 0ff67d1dc4b5
Revises:
Create Date: 2026-11-22 17:54:26.126996
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0ff67d1dc4b5"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "authority",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "code",
            sa.String(length=32),
            nullable=False,
            comment="short stable code, e.g. MEX-FGR; used in the API",
        ),
        sa.Column(
            "country",
            sa.String(length=2),
            nullable=False,
            comment="ISO 3166-1 alpha-2 of the state",
        ),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "central",
                "executing",
                name="authority_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "parent_id",
            sa.Integer(),
            nullable=True,
            comment="the central authority an executing authority belongs to",
        ),
        sa.Column(
            "languages",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            comment="languages in which it accepts requests (Palermo 18.14)",
        ),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column(
            "holiday_subdivision",
            sa.String(length=16),
            nullable=True,
            comment="subdivision of the country whose holidays also apply, if any",
        ),
        sa.Column(
            "contact_points",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "external",
            sa.Boolean(),
            nullable=False,
            comment="not on mla: the other party's clerks record its steps on its behalf",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["authority.id"],
            name=op.f("fk_authority_parent_id_authority"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authority")),
        sa.UniqueConstraint("code", name=op.f("uq_authority_code")),
    )
    with op.batch_alter_table("authority", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_authority_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "reference_counter",
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", "year", name=op.f("pk_reference_counter")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column(
            "prefix",
            sa.String(length=16),
            nullable=False,
            comment="first characters, to recognise it",
        ),
        sa.Column(
            "secret_hash",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of the token; the token itself is never stored",
        ),
        sa.Column(
            "scopes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_api_token_authority_id_authority"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_token_secret_hash")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_token_authority_id"), ["authority_id"], unique=False
        )

    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
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
            nullable=False,
        ),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column(
            "password_hash", sa.Text(), nullable=False, comment="scrypt hash; never the password"
        ),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_user_account_authority_id_authority"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("username", name=op.f("uq_user_account_username")),
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_user_account_authority_id"), ["authority_id"], unique=False
        )

    op.create_table(
        "request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "reference",
            sa.String(length=32),
            nullable=False,
            comment="e.g. MLA-ARG-2026-00042; never reused",
        ),
        sa.Column(
            "their_reference",
            sa.String(length=100),
            nullable=True,
            comment="the requesting state's own case number",
        ),
        sa.Column(
            "kind",
            sa.String(length=32),
            nullable=False,
            comment="workflow name, e.g. mla, extradition",
        ),
        sa.Column(
            "workflow_version",
            sa.Integer(),
            nullable=False,
            comment="the workflow version the request was opened under; it keeps it",
        ),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column(
            "holder_authority_id", sa.Integer(), nullable=False, comment="who holds the request now"
        ),
        sa.Column("requesting_authority_id", sa.Integer(), nullable=False),
        sa.Column("requested_authority_id", sa.Integer(), nullable=False),
        sa.Column("executing_authority_id", sa.Integer(), nullable=True),
        sa.Column(
            "legal_basis",
            sa.String(length=32),
            nullable=False,
            comment="code of the treaty or basis invoked, e.g. untoc-18, iace",
        ),
        sa.Column(
            "urgency",
            sa.Enum(
                "normal",
                "urgent",
                name="urgency",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "needed_by",
            sa.Date(),
            nullable=True,
            comment="date by which the requesting state asked for assistance (Palermo 18.24)",
        ),
        sa.Column("needed_by_reason", sa.Text(), nullable=True),
        sa.Column(
            "fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            comment="the request's contents, validated by the workflow",
        ),
        sa.Column(
            "confidential",
            sa.Boolean(),
            nullable=False,
            comment="the requesting state asked for confidentiality (18.20)",
        ),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column(
            "outcome", sa.String(length=32), nullable=True, comment="final outcome, once closed"
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="last change of state or contents (not reads)",
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "transmitted_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="first handed to the requested side; until then only the requesting side sees it",
        ),
        sa.Column("version_id", sa.Integer(), nullable=False, comment="optimistic lock counter"),
        sa.Column(
            "chain_head",
            sa.String(length=64),
            nullable=False,
            comment="hash of the last event in the history",
        ),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["user_account.id"],
            name=op.f("fk_request_assignee_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_request_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["executing_authority_id"],
            ["authority.id"],
            name=op.f("fk_request_executing_authority_id_authority"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["holder_authority_id"],
            ["authority.id"],
            name=op.f("fk_request_holder_authority_id_authority"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["requested_authority_id"],
            ["authority.id"],
            name=op.f("fk_request_requested_authority_id_authority"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["requesting_authority_id"],
            ["authority.id"],
            name=op.f("fk_request_requesting_authority_id_authority"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request")),
        sa.UniqueConstraint("reference", name=op.f("uq_request_reference")),
    )
    with op.batch_alter_table("request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index(
            "ix_request_executing_updated",
            ["executing_authority_id", "updated_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_request_holder_state", ["holder_authority_id", "state"], unique=False
        )
        batch_op.create_index(
            "ix_request_requested_updated",
            ["requested_authority_id", "updated_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_request_requesting_updated",
            ["requesting_authority_id", "updated_at", "id"],
            unique=False,
        )

    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False, comment="1, 2, 3 ... within the request"),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False, comment="an EventKind value"),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column(
            "actor_authority_id",
            sa.Integer(),
            nullable=True,
            comment="the authority whose user or API token acted",
        ),
        sa.Column(
            "on_behalf_of_id",
            sa.Integer(),
            nullable=True,
            comment="the external authority whose step was recorded for it",
        ),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "hash",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 over prev_hash and contents",
        ),
        sa.ForeignKeyConstraint(
            ["actor_authority_id"],
            ["authority.id"],
            name=op.f("fk_event_actor_authority_id_authority"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["user_account.id"],
            name=op.f("fk_event_actor_user_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["on_behalf_of_id"],
            ["authority.id"],
            name=op.f("fk_event_on_behalf_of_id_authority"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["request.id"],
            name=op.f("fk_event_request_id_request"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
        sa.UniqueConstraint("request_id", "seq", name=op.f("uq_event_request_id_seq")),
    )


def downgrade() -> None:
    op.drop_table("event")
    with op.batch_alter_table("request", schema=None) as batch_op:
        batch_op.drop_index("ix_request_requesting_updated")
        batch_op.drop_index("ix_request_requested_updated")
        batch_op.drop_index("ix_request_holder_state")
        batch_op.drop_index("ix_request_executing_updated")
        batch_op.drop_index(batch_op.f("ix_request_assignee_id"))

    op.drop_table("request")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_account_authority_id"))

    op.drop_table("user_account")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_authority_id"))

    op.drop_table("api_token")
    op.drop_table("reference_counter")
    with op.batch_alter_table("authority", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authority_parent_id"))

    op.drop_table("authority")
