"""Releasing a stored attachment: its blob opened, decrypted and checked segment by segment
as it is read, and handed out as a :class:`Download` that always closes the blob.

Who may have it, and the custody event that records its release, are the service's
(:meth:`mla.evidence.service.EvidenceService.download`); this is what it hands out.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from mla.errors import N_, IntegrityError, NotFound
from mla.evidence.crypto import decrypt_stream
from mla.evidence.models import Attachment
from mla.evidence.storage import EvidenceStore
from mla.keyring import Keyring


class Plaintext:
    """An iterator over verified plaintext of one blob that always closes the blob.

    It closes on exhaustion, on error and on :meth:`close` (WSGI servers call ``close`` on a
    response's iterable, also when the client goes away).
    """

    def __init__(self, segments: Iterator[bytes], blob: BinaryIO) -> None:
        self._segments = segments
        self._blob = blob

    def __iter__(self) -> Plaintext:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._segments)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        close = getattr(self._segments, "close", None)
        if close is not None:
            close()
        self._blob.close()


@dataclass
class Download:
    """An attachment being released: its row and its verified plaintext.

    ``chunks`` raises IntegrityError when the blob is damaged or its digest differs (after
    releasing only verified segments); whoever consumes it must treat an error as a failed
    download, never as a short file. Use as a context manager, or consume or close ``chunks``.
    """

    attachment: Attachment
    chunks: Plaintext

    @property
    def sha256_base64(self) -> str:
        return base64.b64encode(bytes.fromhex(self.attachment.sha256)).decode("ascii")

    def close(self) -> None:
        self.chunks.close()

    def __enter__(self) -> Download:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_plaintext(store: EvidenceStore, keyring: Keyring, attachment: Attachment) -> Plaintext:
    """Verified plaintext of ``attachment``: its header and key are checked now (raising
    IntegrityError if the blob is missing, its header damaged or its key does not unwrap),
    each segment as it is read."""
    try:
        blob = store.open(attachment.storage_key)
    except NotFound:
        raise IntegrityError(
            N_("attachment %(id)s: its blob is missing from the evidence store"),
            {"id": attachment.id},
        ) from None
    try:
        # The row holds the current wrapping; the header's may predate a rotation.
        segments = decrypt_stream(
            blob,
            lambda _k, _w: keyring.unwrap(attachment.key_id, attachment.wrapped_key),
            attachment.storage_key.encode("ascii"),
            expected_sha256=attachment.sha256,
        )
    except BaseException:
        blob.close()
        raise
    return Plaintext(segments, blob)
