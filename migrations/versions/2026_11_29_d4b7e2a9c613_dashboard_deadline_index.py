"""dashboard: an index of the running deadlines

The dashboard's overdue and due-soon lists (and their counts) read the running deadlines of
the reader's authority by due time. Through ``ix_deadline_authority_closed`` they were a
scan of the authority's every deadline on PostgreSQL, growing with the archive; this partial
index holds the running ones alone (neither closed nor paused), by authority and due time.

Revision ID: d4b7e2a9c613
Revises: 8f86d81f44db
Create Date: 2026-11-29 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4b7e2a9c613"
down_revision: str | None = "8f86d81f44db"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUNNING = sa.text("closed_at IS NULL AND paused_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_deadline_running",
        "deadline",
        ["authority_id", "due_at", "id"],
        sqlite_where=RUNNING,
        postgresql_where=RUNNING,
    )


def downgrade() -> None:
    op.drop_index("ix_deadline_running", table_name="deadline")
