"""evidence

Revision ID: 1e41ab12c87e
Revises: a2d5d5326de6
Create Date: 2026-11-22 18:05:10.372457
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1e41ab12c87e"
down_revision: str | None = "a2d5d5326de6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
