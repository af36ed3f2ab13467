"""The filesystem evidence store: atomic, durable writes and strict storage keys."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from mla.errors import Conflict, NotFound
from mla.evidence.storage import EvidenceStore, FilesystemStore, new_storage_key


@pytest.fixture
def store(tmp_path: Path) -> FilesystemStore:
    return FilesystemStore(tmp_path / "evidence")


def all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_written_blob_reads_back(store: FilesystemStore) -> None:
    backend: EvidenceStore = store  # FilesystemStore keeps the contract
    key = new_storage_key()
    with backend.writer(key) as f:
        assert not backend.exists(key)  # invisible until complete
        f.write(b"ciphertext ")
        f.write(b"bytes")
    assert backend.exists(key)
    with backend.open(key) as f:
        assert f.read() == b"ciphertext bytes"
    assert list(backend.keys()) == [key]
    assert stat.S_IMODE((store.root / key[:2] / key).stat().st_mode) == 0o600


def test_a_failed_write_leaves_nothing_behind(store: FilesystemStore) -> None:
    key = new_storage_key()
    with pytest.raises(RuntimeError, match="client went away"), store.writer(key) as f:
        f.write(b"partial upload")
        raise RuntimeError("client went away")
    assert not store.exists(key)
    assert all_files(store.root) == []
    assert list(store.keys()) == []


def test_an_existing_blob_is_never_overwritten(store: FilesystemStore) -> None:
    key = new_storage_key()
    with store.writer(key) as f:
        f.write(b"original")
    with pytest.raises(Conflict, match="already exists"), store.writer(key) as f:
        f.write(b"replacement")
    with store.open(key) as f:
        assert f.read() == b"original"


def test_delete_is_idempotent_and_open_of_a_missing_blob_is_not_found(
    store: FilesystemStore,
) -> None:
    key = new_storage_key()
    with store.writer(key) as f:
        f.write(b"x")
    store.delete(key)
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(NotFound, match=f"evidence blob {key} not found"):
        store.open(key)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../../etc/passwd",
        "0" * 31,
        "0" * 129,
        "ABCDEF0123456789ABCDEF0123456789",
        "0123456789abcdef0123456789abcdef/..",
        "0123456789abcdef0123456789abcde/",
        "0123456789abcdef0123456789abcdef\n",
        "report.pdf",
    ],
)
def test_storage_keys_must_be_lowercase_hex(store: FilesystemStore, key: str) -> None:
    with pytest.raises(ValueError, match="lowercase hex"):
        store.writer(key).__enter__()
    for op in (store.open, store.exists, store.delete):
        with pytest.raises(ValueError, match="lowercase hex"):
            op(key)


def test_keys_lists_only_complete_blobs(store: FilesystemStore) -> None:
    keys = {new_storage_key() for _ in range(5)}
    for key in keys:
        with store.writer(key) as f:
            f.write(key.encode())
    (store.root / "notes.txt").write_text("not a blob")
    (store.root / "ab").mkdir(exist_ok=True)
    (store.root / "ab" / ".abcdef.tmp").write_bytes(b"left by a crash")
    assert set(store.keys()) == keys


def test_stale_temp_files_from_a_crash_are_swept(store: FilesystemStore) -> None:
    shard = store.root / "ab"
    shard.mkdir()
    stale, fresh = shard / ".ab01.x.tmp", shard / ".ab02.y.tmp"
    stale.write_bytes(b"old")
    fresh.write_bytes(b"in progress")
    old = time.time() - 2 * 24 * 3600
    os.utime(stale, (old, old))
    assert store.remove_stale_temp_files(24 * 3600, dry_run=True) == ["ab/.ab01.x.tmp"]
    assert stale.exists()
    assert store.remove_stale_temp_files(24 * 3600) == ["ab/.ab01.x.tmp"]
    assert not stale.exists()
    assert fresh.exists()
