"""webhook secrets sealed under the keyring

Webhook signing secrets were sealed under a key derived from MLA_SECRET_KEY, so changing the
session key broke every subscription. They are now sealed under a data key wrapped by the
keyring. Existing rows keep their old seal (secret_key_id null) until the worker, or `mla
init`, seals them again under the keyring with the MLA_SECRET_KEY they were made with: this
revision cannot, having no key.

Revision ID: 5b1f0e7c2a91
Revises: 0cd021e38fce
Create Date: 2026-11-29 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b1f0e7c2a91"
down_revision: str | None = "5e7a1c9d2b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_subscription") as batch:
        batch.add_column(
            sa.Column(
                "secret_key_id",
                sa.String(length=16),
                nullable=True,
                comment="keyring key wrapping the secret's data key; null: sealed under "
                "MLA_SECRET_KEY by an older version, until the worker seals it again",
            )
        )
        batch.add_column(
            sa.Column(
                "secret_wrapped_key",
                sa.LargeBinary(),
                nullable=True,
                comment="the secret's data key, wrapped (RFC 3394) under secret_key_id",
            )
        )


def downgrade() -> None:
    # Rows sealed under the keyring cannot be opened by the older version: it reports them
    # as not opening, and their subscribers subscribe again.
    with op.batch_alter_table("webhook_subscription") as batch:
        batch.drop_column("secret_wrapped_key")
        batch.drop_column("secret_key_id")
