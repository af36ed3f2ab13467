"""password reset by an admin

An authority's admin can reset a user's password from the web UI: the user signs in with the
one-time password the admin hands over and must choose a new one before anything else.
Existing users have nothing to change (false).

Revision ID: a7e4c2d91f35
Revises: 3c7d2f8a1b64
Create Date: 2026-11-29 15:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7e4c2d91f35"
down_revision: str | None = "3c7d2f8a1b64"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, also on SQLite: a batch operation would rebuild user_account, and
# dropping the old table would set every reference to a user (assignees, creators) to NULL.


def upgrade() -> None:
    op.add_column(
        "user_account",
        sa.Column(
            "must_change_password",
            sa.Boolean(),
            server_default=sa.false(),
            nullable=False,
            comment="an admin reset the password: the user chooses a new one before anything else",
        ),
    )


def downgrade() -> None:
    op.drop_column("user_account", "must_change_password")
