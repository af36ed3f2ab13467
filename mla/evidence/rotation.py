"""Key rotation over evidence: which keyring key wraps each attachment's data key, re-wrapping
them under the current key, and retiring a key nothing is wrapped under any more.

A part of :class:`~mla.evidence.service.EvidenceService`, kept beside the keyring's own
operations (:mod:`mla.keyring`) rather than among uploads and downloads.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mla.errors import N_, IntegrityError
from mla.evidence.models import Attachment
from mla.keyring import Keyring
from mla.notify.models import WebhookSubscription


class KeyRotation:
    session: Session
    keyring: Keyring

    # --- keys --------------------------------------------------------------------------------

    def key_usage(self) -> dict[str, int]:
        """How many attachments' data keys each keyring key wraps."""
        rows = self.session.execute(
            select(Attachment.key_id, func.count()).group_by(Attachment.key_id)
        )
        return {key_id: count for key_id, count in rows}

    def pending_rewraps(self) -> int:
        """How many data keys are not yet wrapped under the current key."""
        current = self.keyring.current_key_id
        return (
            self.session.scalar(
                select(func.count()).select_from(Attachment).where(Attachment.key_id != current)
            )
            or 0
        )

    def rewrap_batch(self, limit: int = 500) -> int:
        """Re-wrap up to ``limit`` data keys not under the current key, and flush; returns how
        many. Blobs are not touched. Commit after each batch: a rotation then resumes where
        it stopped. Raises IntegrityError naming an attachment whose key does not unwrap."""
        current = self.keyring.current_key_id
        rows = self.session.scalars(
            select(Attachment)
            .where(Attachment.key_id != current)
            .order_by(Attachment.id)
            .limit(limit)
            .with_for_update()
        ).all()
        for row in rows:
            try:
                row.key_id, row.wrapped_key = self.keyring.rewrap(row.key_id, row.wrapped_key)
            except IntegrityError as exc:
                raise IntegrityError(
                    N_("attachment %(id)s: %(exc)s"), {"id": row.id, "exc": exc}
                ) from None
        self.session.flush()
        return len(rows)

    def retire_key(self, key_id: str) -> None:
        """Erase key ``key_id``'s material. Raises Conflict while any attachment's data key
        is wrapped under it (run ``mla keys rotate`` first), or a webhook secret's (the
        worker moves them to the current key on its next pass), or if it is the current key."""
        secrets = self.session.scalar(
            select(func.count())
            .select_from(WebhookSubscription)
            .where(WebhookSubscription.secret_key_id == key_id)
        )
        in_use = self.key_usage().get(key_id, 0) + (secrets or 0)
        self.keyring.retire(key_id, in_use_count=in_use)
