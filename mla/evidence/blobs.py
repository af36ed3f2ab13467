"""Blobs written in a transaction that has not committed yet, and their clean-up.

Blobs are written (temp name, fsync, rename) before their row is flushed. These session
listeners delete every blob written in a transaction that does not commit, so an upload that
fails at any point, including the commit itself, leaves neither row nor blob, without callers
doing anything.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

from mla.evidence.storage import EvidenceStore

log = logging.getLogger(__name__)

_PENDING = "mla.evidence.pending_blobs"  # session.info: {SessionTransaction: [(store, key)]}
_COMMITTED = "mla.evidence.committed"  # session.info: transactions whose commit went through


def track_blob(session: Session, store: EvidenceStore, key: str) -> None:
    """Delete the blob ``key`` unless the session's current transaction commits."""
    session.connection()  # make sure a transaction exists to hang the blob on
    transaction = session.get_nested_transaction() or session.get_transaction()
    assert transaction is not None
    session.info.setdefault(_PENDING, {}).setdefault(transaction, []).append((store, key))


def _delete_blobs(blobs: Iterable[tuple[EvidenceStore, str]]) -> None:
    for store, key in blobs:
        try:
            store.delete(key)
        except Exception:
            # Never mask the error that caused the rollback; an orphan blob holds only
            # ciphertext that no row references, and store.keys() lists it for cleanup.
            log.exception("could not delete evidence blob %s of a rolled-back upload", key)


@sa_event.listens_for(Session, "after_commit")
def _on_commit(session: Session) -> None:
    # Fires for the root transaction and for savepoints, before after_transaction_end.
    if session.info.get(_PENDING):
        transaction = session.get_nested_transaction() or session.get_transaction()
        session.info.setdefault(_COMMITTED, set()).add(transaction)


@sa_event.listens_for(Session, "after_transaction_end")
def _on_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    pending: dict[SessionTransaction, list[tuple[EvidenceStore, str]]] = session.info.get(
        _PENDING, {}
    )
    committed: set[SessionTransaction] = session.info.get(_COMMITTED, set())
    blobs = pending.pop(transaction, None)
    was_committed = transaction in committed
    committed.discard(transaction)
    if not blobs:
        return
    if not was_committed:
        _delete_blobs(blobs)  # rolled back, or closed without a commit
        return
    parent = transaction.parent
    # A released savepoint hands its blobs to the enclosing transaction, which may still roll
    # back; flush-level subtransactions never hold blobs, so skip past them.
    while parent is not None and not parent.nested and parent.parent is not None:
        parent = parent.parent
    if parent is not None:
        pending.setdefault(parent, []).extend(blobs)
