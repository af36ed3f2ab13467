"""Where encrypted evidence blobs live: the storage contract and its filesystem backend.

Stores hold opaque ciphertext under *storage keys* that the evidence service generates
(:func:`new_storage_key`); a key never derives from a user's file name. A blob appears under
its key only complete and durable, so the service can commit the attachment row after
``writer()`` returns and delete the blob if that commit fails.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from mla.durability import fsync_dir
from mla.errors import N_, Conflict, NotFound

KEY_PATTERN = re.compile(r"[0-9a-f]{32,128}")
_TEMP_SUFFIX = ".tmp"


def new_storage_key() -> str:
    """A fresh random storage key (128 bits, lowercase hex)."""
    return secrets.token_hex(16)


def check_key(key: str) -> str:
    """Return ``key`` if it is 32-128 lowercase hex characters; raise ValueError otherwise.

    Keys come from the service, so a bad one is a programming error, not user input; the
    strict pattern is what keeps a key from ever naming a path outside the store.
    """
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise ValueError("storage key must be 32-128 lowercase hex characters")
    return key


class EvidenceStore(Protocol):
    """The contract every evidence backend keeps (filesystem now, S3-compatible later)."""

    def writer(self, key: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """A binary file to write the blob into. On normal exit the blob is durable under
        ``key``; if the block raises, nothing is left under ``key`` nor anywhere else, and
        the exception propagates. Raises Conflict if ``key`` already holds a blob."""
        ...

    def open(self, key: str) -> BinaryIO:
        """The blob for reading, from its start; raises NotFound if there is none."""
        ...

    def delete(self, key: str) -> None:
        """Remove the blob; a missing blob is not an error (cleanup paths retry)."""
        ...

    def exists(self, key: str) -> bool:
        """Whether a complete blob is stored under ``key``."""
        ...

    def keys(self) -> Iterator[str]:
        """Every stored key, in no particular order (for orphan checks)."""
        ...

    def modified(self, key: str) -> float:
        """When the blob was last written (POSIX time); raises NotFound if there is none."""
        ...

    def remove_stale_temp_files(self, older_than: float, *, dry_run: bool = False) -> list[str]:
        """Delete partial blobs not written to for ``older_than`` seconds, left by a process
        that died mid-write (a clean failure removes its own); return their names (those it
        would delete, if ``dry_run``)."""
        ...


class FilesystemStore:
    """Blobs as files under ``root``, fanned out by the key's first two characters
    (``root/3f/3fa2...``) so that no folder grows to millions of entries."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"<FilesystemStore {self.root}>"

    def _path(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:2] / key

    @contextlib.contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:
        """See :meth:`EvidenceStore.writer`. The temporary file sits beside the final name
        (so the rename is atomic) and starts with a dot (so :meth:`keys` never lists it)."""
        final = self._path(key)
        if final.exists():
            raise Conflict(N_("evidence blob %(key)s already exists"), {"key": key})
        shard = final.parent
        if not shard.is_dir():
            shard.mkdir(mode=0o700, exist_ok=True)
            fsync_dir(self.root)  # the new folder's entry must survive a crash too
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=_TEMP_SUFFIX, dir=shard)
        try:
            with os.fdopen(fd, "wb") as f:
                yield f
                f.flush()
                os.fsync(f.fileno())
            # Keys are random, so a clash here means a service bug; refuse to clobber evidence.
            if final.exists():
                raise Conflict(N_("evidence blob %(key)s already exists"), {"key": key})
            os.rename(tmp, final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        fsync_dir(shard)

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb")
        except FileNotFoundError:
            raise NotFound(N_("evidence blob %(key)s not found"), {"key": key}) from None

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        fsync_dir(path.parent)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self) -> Iterator[str]:
        for shard in self.root.iterdir():
            if len(shard.name) != 2 or not shard.is_dir():
                continue
            for entry in shard.iterdir():
                name = entry.name
                if KEY_PATTERN.fullmatch(name) and name[:2] == shard.name:
                    yield name

    def modified(self, key: str) -> float:
        try:
            return self._path(key).stat().st_mtime
        except FileNotFoundError:
            raise NotFound(N_("evidence blob %(key)s not found"), {"key": key}) from None

    def remove_stale_temp_files(self, older_than: float, *, dry_run: bool = False) -> list[str]:
        """See :meth:`EvidenceStore.remove_stale_temp_files`; names are ``shard/file``."""
        cutoff = time.time() - older_than
        removed = []
        for path in self.root.glob(f"??/.*{_TEMP_SUFFIX}"):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    if not dry_run:
                        path.unlink()
                    removed.append(f"{path.parent.name}/{path.name}")
        return removed
