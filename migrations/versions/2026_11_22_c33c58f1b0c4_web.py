"""web

Revision ID: c33c58f1b0c4
Revises: 0cd021e38fce
Create Date: 2026-11-22 18:05:11.800982
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c33c58f1b0c4"
down_revision: str | None = "0cd021e38fce"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
