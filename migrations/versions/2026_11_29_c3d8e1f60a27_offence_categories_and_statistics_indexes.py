"""offence categories on requests; indexes for statistics and completion estimates

Every existing request gets an empty list of offence categories (none recorded yet). The
indexes serve the statistics (deadlines by authority or name, closed in a period) and the
completion estimate (the latest closed requests of a kind, and of a kind and counterpart).

Revision ID: c3d8e1f60a27
Revises: 9eb8ae0422a4
Create Date: 2026-11-29 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c3d8e1f60a27"
down_revision: str | None = "9eb8ae0422a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("request") as batch:
        batch.add_column(
            sa.Column(
                "offence_categories",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                server_default=sa.text("'[]'"),
                nullable=False,
                comment="OffenceCategory codes, several allowed; counted by the statistics",
            )
        )
        batch.create_index("ix_request_kind_closed", ["kind", "closed_at"])
        batch.create_index(
            "ix_request_kind_requested_closed", ["kind", "requested_authority_id", "closed_at"]
        )
    with op.batch_alter_table("deadline") as batch:
        batch.create_index("ix_deadline_authority_closed", ["authority_id", "closed_at"])
        batch.create_index("ix_deadline_name_closed", ["name", "closed_at"])


def downgrade() -> None:
    with op.batch_alter_table("deadline") as batch:
        batch.drop_index("ix_deadline_name_closed")
        batch.drop_index("ix_deadline_authority_closed")
    with op.batch_alter_table("request") as batch:
        batch.drop_index("ix_request_kind_requested_closed")
        batch.drop_index("ix_request_kind_closed")
        batch.drop_column("offence_categories")
