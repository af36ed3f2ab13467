"""The keyring file: generation, loading, rotation, retirement and refusal of unsafe files."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from mla.errors import ConfigError, Conflict, IntegrityError, NotFound
from mla.keyring import Keyring

DATA_KEY = bytes(range(32))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def material(path: Path) -> list[str]:
    return [e["key"] for e in json.loads(path.read_text())["keys"] if "key" in e]


def test_first_use_generates_a_private_keyring(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    keyring = Keyring.open(path)
    assert mode(path) == 0o600
    assert keyring.current_key_id == "k1"
    [info] = keyring.list_keys()
    assert (info.id, info.status, info.current) == ("k1", "active", True)
    assert info.created.tzinfo is not None
    assert not any(secret in repr(keyring) for secret in material(path))


def test_reload_unwraps_what_was_wrapped(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    key_id, wrapped = Keyring.open(path).wrap(DATA_KEY)
    assert key_id == "k1"
    assert len(wrapped) == 40
    assert Keyring.open(path).unwrap(key_id, wrapped) == DATA_KEY


def _open_and_wrap(path: str) -> bytes:
    return Keyring.open(path).wrap(DATA_KEY)[1]


def test_processes_starting_together_share_one_keyring(tmp_path: Path) -> None:
    path = str(tmp_path / "keyring.json")
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        wrapped = pool.map(_open_and_wrap, [path] * 12)
    # AES key wrap is deterministic: equal outputs mean every process used the same key.
    assert len(set(wrapped)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keyring.json"]


def test_rotation_makes_the_new_key_current_and_keeps_old_ones_unwrapping(
    tmp_path: Path,
) -> None:
    path = tmp_path / "keyring.json"
    keyring = Keyring.open(path)
    stale = Keyring.open(path)  # another process that loaded before the rotation
    old = keyring.wrap(DATA_KEY)
    assert keyring.add_key() == "k2"
    assert keyring.current_key_id == "k2"
    assert keyring.unwrap(*old) == DATA_KEY
    new_id, new_wrapped = keyring.rewrap(*old)
    assert new_id == "k2"
    assert stale.unwrap(new_id, new_wrapped) == DATA_KEY  # reloads on an unknown key id
    assert stale.wrap(DATA_KEY)[0] == "k2"  # and notices the new current key before wrapping
    assert mode(path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keyring.json", "keyring.json.lock"]


def test_retire_is_refused_while_the_key_is_in_use(tmp_path: Path) -> None:
    keyring = Keyring.open(tmp_path / "keyring.json")
    wrapped = keyring.wrap(DATA_KEY)
    keyring.add_key()
    with pytest.raises(Conflict, match="k1 still wraps 3 data key"):
        keyring.retire("k1", in_use_count=3)
    assert keyring.unwrap(*wrapped) == DATA_KEY


def test_retire_erases_the_key_and_ids_are_never_reused(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    keyring = Keyring.open(path)
    wrapped = keyring.wrap(DATA_KEY)
    first_material = material(path)[0]
    keyring.add_key()
    keyring.retire("k1", in_use_count=0)
    assert first_material not in path.read_text()
    assert [(k.id, k.status) for k in keyring.list_keys()] == [("k1", "retired"), ("k2", "active")]
    with pytest.raises(IntegrityError, match="key k1 is retired"):
        keyring.unwrap(*wrapped)
    keyring.retire("k1", in_use_count=0)  # already retired: nothing to do
    assert keyring.add_key() == "k3"


def test_retire_refuses_the_current_and_unknown_keys(tmp_path: Path) -> None:
    keyring = Keyring.open(tmp_path / "keyring.json")
    with pytest.raises(Conflict, match="k1 is the current key"):
        keyring.retire("k1", in_use_count=0)
    with pytest.raises(NotFound, match="key k9 not in keyring"):
        keyring.retire("k9", in_use_count=0)


def test_unwrap_failures_are_integrity_errors(tmp_path: Path) -> None:
    keyring = Keyring.open(tmp_path / "keyring.json")
    key_id, wrapped = keyring.wrap(DATA_KEY)
    with pytest.raises(IntegrityError, match="key k3 not in keyring"):
        keyring.unwrap("k3", wrapped)
    damaged = bytes([wrapped[0] ^ 1]) + wrapped[1:]
    with pytest.raises(IntegrityError, match="does not unwrap under key k1"):
        keyring.unwrap(key_id, damaged)
    with pytest.raises(IntegrityError, match="does not unwrap"):
        keyring.unwrap(key_id, b"short")


@pytest.mark.parametrize("bad_mode", [0o640, 0o604, 0o660, 0o644])
def test_a_keyring_others_can_read_is_refused(tmp_path: Path, bad_mode: int) -> None:
    path = tmp_path / "keyring.json"
    Keyring.open(path)
    path.chmod(bad_mode)
    with pytest.raises(ConfigError, match=f"has mode {bad_mode:04o}; it must be 0600"):
        Keyring.open(path)


def _valid_doc(tmp_path: Path) -> dict[str, object]:
    path = tmp_path / "seed.json"
    Keyring.open(path)
    return json.loads(path.read_text())  # type: ignore[no-any-return]


MALFORMED = {
    "not-json": (lambda d: "{not json", "not valid JSON"),
    "not-an-object": (lambda d: "[]", "is not a keyring"),
    "wrong-format": (lambda d: {**d, "format": "other"}, "is not a keyring"),
    "wrong-version": (lambda d: {**d, "version": 9}, "unsupported version 9"),
    "no-keys": (lambda d: {**d, "keys": []}, 'no "keys" list'),
    "bad-id": (lambda d: {**d, "keys": [{**d["keys"][0], "id": "../x"}]}, "malformed id"),
    "duplicate-id": (lambda d: {**d, "keys": d["keys"] * 2}, "k1 appears twice"),
    "bad-created": (
        lambda d: {**d, "keys": [{**d["keys"][0], "created": "yesterday"}]},
        "malformed created time",
    ),
    "bad-status": (
        lambda d: {**d, "keys": [{**d["keys"][0], "status": "lost"}]},
        "status 'lost'",
    ),
    "short-key": (
        lambda d: {**d, "keys": [{**d["keys"][0], "key": "AAAA"}]},
        "not a base64 256-bit key",
    ),
    "not-base64": (
        lambda d: {**d, "keys": [{**d["keys"][0], "key": "!" * 44}]},
        "not a base64 256-bit key",
    ),
    "no-current": (lambda d: {**d, "current": "k7"}, '"current" must name an active key'),
}


@pytest.mark.parametrize("case", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_keyring_is_refused_in_one_line(tmp_path: Path, case: tuple) -> None:
    make, message = case
    doc = _valid_doc(tmp_path)
    secret = doc["keys"][0]["key"]  # type: ignore[index]
    content = make(doc)
    path = tmp_path / "keyring.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(ConfigError, match=message) as caught:
        Keyring.open(path)
    text = str(caught.value)
    assert "\n" not in text
    assert secret not in text
    assert str(path) in text


def test_a_keyring_that_is_not_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    path.mkdir(mode=0o700)
    with pytest.raises(ConfigError, match=r"not a regular file|cannot be read"):
        Keyring.open(path)


def test_a_keyring_in_a_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be created"):
        Keyring.open(tmp_path / "no-such-folder" / "keyring.json")
