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
    pass


def downgrade() -> None:
    pass
