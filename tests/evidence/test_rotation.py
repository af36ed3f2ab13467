"""Key rotation re-wraps data keys in the database only; retiring waits until nothing uses a key."""

from __future__ import annotations

import pytest

from mla.errors import Conflict
from mla.requests.service import Actor

from .conftest import PDF


def test_rotation_rewraps_without_touching_blobs(evidence, upload, received, world, store, keyring):
    attachments = [upload(received, PDF + bytes([i])) for i in range(3)]
    blobs = {key: (store.root / key[:2] / key).read_bytes() for key in list(store.keys())}
    assert evidence.key_usage() == {"k1": 3}

    assert keyring.add_key() == "k2"
    assert evidence.pending_rewraps() == 3
    with pytest.raises(Conflict, match="still wraps 3"):
        evidence.retire_key("k1")

    # Batches; an interruption between them loses nothing.
    assert evidence.rewrap_batch(limit=2) == 2
    assert evidence.key_usage() == {"k1": 1, "k2": 2}
    assert evidence.rewrap_batch(limit=2) == 1
    assert evidence.rewrap_batch(limit=2) == 0
    assert evidence.key_usage() == {"k2": 3}
    assert {key: (store.root / key[:2] / key).read_bytes() for key in list(store.keys())} == blobs

    evidence.retire_key("k1")
    assert [(k.id, k.status) for k in keyring.list_keys()] == [("k1", "retired"), ("k2", "active")]
    for i, att in enumerate(attachments):
        with evidence.download(received, Actor.for_user(world.arg_clerk), att.id) as download:
            assert b"".join(download.chunks) == PDF + bytes([i])


def test_the_current_key_cannot_be_retired(evidence, keyring):
    with pytest.raises(Conflict, match="current key"):
        evidence.retire_key(keyring.current_key_id)


def test_an_upload_lands_under_the_newest_key(evidence, upload, received, keyring, monkeypatch):
    # A rotation that happens while a file streams: the data key was wrapped under k1.
    real_wrap = keyring.wrap
    state = {"rotated": False}

    def wrap_then_rotate(data_key):
        wrapped = real_wrap(data_key)
        if not state["rotated"]:
            state["rotated"] = True
            keyring.add_key()
        return wrapped

    monkeypatch.setattr(keyring, "wrap", wrap_then_rotate)
    att = upload(received)
    assert att.key_id == "k2"
    assert evidence.pending_rewraps() == 0
