"""What uploads cut short by a crash leave in the evidence store, and its removal.

A part of :class:`~mla.evidence.service.EvidenceService`.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mla.errors import NotFound
from mla.evidence.models import Attachment
from mla.evidence.storage import EvidenceStore

# A blob or partial blob untouched this long belongs to no upload in progress: an upload writes
# its temporary file as the body arrives (servers time out a silent client within minutes) and
# commits its row moments after the blob is complete.
LEFTOVER_AGE = 3600.0
_SWEEP_BATCH = 500


@dataclass(frozen=True)
class Leftovers:
    """What :meth:`EvidenceService.sweep_leftovers` removed (or would remove)."""

    temporaries: list[str]  # partial blobs, by store-relative name
    orphans: list[str]  # storage keys of complete blobs no row references


class LeftoverSweep:
    session: Session
    store: EvidenceStore

    def sweep_leftovers(
        self, older_than: float = LEFTOVER_AGE, *, dry_run: bool = False
    ) -> Leftovers:
        """Remove what uploads cut short by a crash left in the store: partial blobs (an
        encrypted temporary file) and complete blobs that no attachment references (written
        just before the process died, or before a commit whose clean-up failed).

        Only what was last written more than ``older_than`` seconds ago is removed, so an
        upload in progress anywhere, whose blob exists before its row commits, is never
        touched; a blob an attachment row references is never removed, whatever its age.
        Blobs hold only ciphertext, so a leftover discloses nothing; this reclaims space.
        ``dry_run`` reports without removing. Reads the database, changes nothing in it.
        """
        temporaries = self.store.remove_stale_temp_files(older_than, dry_run=dry_run)
        cutoff = time.time() - older_than
        candidates = []
        for key in self.store.keys():  # noqa: SIM118 (a store, not a dict)
            with contextlib.suppress(NotFound):  # removed meanwhile
                if self.store.modified(key) < cutoff:
                    candidates.append(key)
        orphans = []
        for start in range(0, len(candidates), _SWEEP_BATCH):
            batch = candidates[start : start + _SWEEP_BATCH]
            referenced = set(
                self.session.scalars(
                    select(Attachment.storage_key).where(Attachment.storage_key.in_(batch))
                )
            )
            for key in batch:
                if key not in referenced:
                    if not dry_run:
                        self.store.delete(key)
                    orphans.append(key)
        return Leftovers(temporaries, orphans)
