"""notifications

Revision ID: 0a425cbb6288
Revises: 1e41ab12c87e
Create Date: 2026-11-22 18:05:10.883455
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0a425cbb6288"
down_revision: str | None = "1e41ab12c87e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
