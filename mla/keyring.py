"""The keyring of key-encryption keys (KEKs) that wrap data keys: each evidence file's, and each
webhook secret's. Below every feature that keeps a secret at rest, beside the database.

The keyring is a JSON file (mode 0600) holding 256-bit AES keys, each with an id (``k1``,
``k2``, ... in order of creation, never reused), its creation time and a status:

- ``active``: unwraps; exactly one active key, the *current* one, also wraps new data keys.
- ``retired``: its material has been erased. Retiring is how an old key stops being a risk
  after rotation, so it is refused while any data key is still wrapped under it.

Data keys are wrapped with AES key wrap (RFC 3394), which carries its own integrity check.
Key material never appears in a log line, an exception message or a ``repr``.

Several processes may share the file: writers take an advisory lock on ``<file>.lock``,
re-read the file under it and replace it atomically; readers notice a replaced file (after a
rotation by ``mla keys``) and reload it before wrapping or when a key id is unknown.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import os
import re
import secrets
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap
from flask import Flask

from mla.durability import fsync_dir
from mla.errors import N_, ConfigError, Conflict, IntegrityError, NotFound

KEK_SIZE = 32
FORMAT = "mla-keyring"
VERSION = 1
_ID_RE = re.compile(r"k[1-9][0-9]{0,8}")
STATUSES = ("active", "retired")


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown about a key: everything but its material."""

    id: str
    created: datetime
    status: str
    current: bool


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Keyring:
    """A loaded keyring file. Build it with :meth:`open`; it is safe to share across threads
    only for ``wrap``/``unwrap`` reads (the CLI does the rotations)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._doc: dict[str, Any] = {}
        self._keys: dict[str, bytes] = {}
        self._stamp: tuple[int, int, int] | None = None

    def __repr__(self) -> str:
        return f"<Keyring {self.path} current={self._doc.get('current')}>"

    # -- loading -------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Keyring:
        """Load the keyring at ``path``, generating it with one key (``k1``) if it is missing.

        Two processes starting together agree on one file: the new file is written under a
        temporary name and published with ``link``, which fails if the name exists (O_EXCL
        semantics without ever exposing a half-written file). The parent folder must exist.
        Raises ConfigError if the file is readable or writable by group or others, is not a
        regular file, or is malformed.
        """
        keyring = cls(Path(path))
        try:
            keyring._load()
        except FileNotFoundError:
            doc = {
                "format": FORMAT,
                "version": VERSION,
                "current": "k1",
                "keys": [cls._new_entry("k1")],
            }
            try:
                keyring._publish(doc, replace=False)
            except FileExistsError:
                pass  # another process won the race; use its keyring
            except OSError as exc:
                raise keyring._error(f"cannot be created: {exc.strerror}") from None
            keyring._load()
        return keyring

    @staticmethod
    def _new_entry(key_id: str) -> dict[str, Any]:
        material = base64.b64encode(secrets.token_bytes(KEK_SIZE)).decode("ascii")
        return {"id": key_id, "created": _now(), "status": "active", "key": material}

    def _error(self, message: str) -> ConfigError:
        return ConfigError(f"keyring {self.path}: {message}")

    def _load(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise self._error(f"cannot be read: {exc.strerror}") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise self._error("is not a regular file")
            if st.st_mode & 0o077:
                mode = stat.S_IMODE(st.st_mode)
                raise self._error(f"has mode {mode:04o}; it must be 0600 (chmod 600)")
            with os.fdopen(os.dup(fd), "rb") as f:
                raw = f.read()
        finally:
            os.close(fd)
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            # The decoder's message may quote the file's text, i.e. key material.
            raise self._error("is not valid JSON") from None
        self._keys = self._validate(doc)
        self._doc = doc
        self._stamp = (st.st_ino, st.st_mtime_ns, st.st_size)

    def _validate(self, doc: Any) -> dict[str, bytes]:
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise self._error(f'is not a keyring (expected "format": "{FORMAT}")')
        if doc.get("version") != VERSION:
            raise self._error(f"has unsupported version {doc.get('version')!r}")
        entries = doc.get("keys")
        if not isinstance(entries, list) or not entries:
            raise self._error('has no "keys" list')
        keys: dict[str, bytes] = {}
        seen: set[str] = set()
        for n, entry in enumerate(entries, 1):
            if not isinstance(entry, dict):
                raise self._error(f"key entry {n} is not an object")
            key_id = entry.get("id")
            if not isinstance(key_id, str) or not _ID_RE.fullmatch(key_id):
                raise self._error(f"key entry {n} has a malformed id")
            if key_id in seen:
                raise self._error(f"key {key_id} appears twice")
            seen.add(key_id)
            try:
                datetime.fromisoformat(entry["created"])
            except (KeyError, TypeError, ValueError):
                raise self._error(f"key {key_id} has a malformed created time") from None
            status = entry.get("status")
            if status not in STATUSES:
                raise self._error(f"key {key_id} has status {status!r}; expected active or retired")
            if status == "retired":
                if "key" in entry:
                    raise self._error(f"key {key_id} is retired but still holds key material")
                continue
            try:
                material = base64.b64decode(entry["key"], validate=True)
            except (KeyError, TypeError, ValueError, binascii.Error):
                material = b""
            if len(material) != KEK_SIZE:
                raise self._error(f"key {key_id} is not a base64 256-bit key")
            keys[key_id] = material
        current = doc.get("current")
        if current not in keys:
            raise self._error('"current" must name an active key')
        return keys

    def _refresh(self) -> None:
        """Reload if another process replaced the file since we read it."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise self._error("has disappeared") from None
        if (st.st_ino, st.st_mtime_ns, st.st_size) != self._stamp:
            self._load()

    # -- writing -------------------------------------------------------------------------

    def _publish(self, doc: dict[str, Any], *, replace: bool) -> None:
        """Write ``doc`` durably: temp file (0600) + fsync, then rename (or link), then fsync
        the folder so the new name survives a crash."""
        folder = self.path.parent
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(doc, f, indent=2)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            if replace:
                os.replace(tmp, self.path)
            else:
                os.link(tmp, self.path)
                os.unlink(tmp)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        fsync_dir(folder)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """Hold the writers' lock, yield the freshly read document, then publish it."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._load()  # another writer may have changed it since we last read
            doc = json.loads(json.dumps(self._doc))
            yield doc
            if doc != self._doc:
                self._validate(doc)
                self._publish(doc, replace=True)
                self._load()
        finally:
            os.close(fd)  # releases the lock

    # -- public API ----------------------------------------------------------------------

    @property
    def current_key_id(self) -> str:
        """The id of the key that wraps new data keys."""
        return str(self._doc["current"])

    def list_keys(self) -> list[KeyInfo]:
        """Every key in creation order, without material."""
        current = self._doc["current"]
        return [
            KeyInfo(e["id"], datetime.fromisoformat(e["created"]), e["status"], e["id"] == current)
            for e in self._doc["keys"]
        ]

    def wrap(self, data_key: bytes) -> tuple[str, bytes]:
        """Wrap ``data_key`` (16..64 bytes, a multiple of 8) under the current key.

        Returns ``(key_id, wrapped)``; store both with the attachment.
        """
        self._refresh()
        key_id = self.current_key_id
        return key_id, aes_key_wrap(self._keys[key_id], data_key)

    def unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        """The data key inside ``wrapped``.

        Raises IntegrityError if the key id is unknown or retired, or if ``wrapped`` fails the
        key-wrap integrity check (altered, or wrapped under another key).
        """
        if key_id not in self._keys:
            self._refresh()
        kek = self._keys.get(key_id)
        shown = key_id[:64]
        if kek is None:
            if any(e["id"] == key_id for e in self._doc["keys"]):
                raise IntegrityError(
                    N_("key %(shown)s is retired; its material was erased"), {"shown": shown}
                )
            raise IntegrityError(N_("key %(shown)s not in keyring"), {"shown": shown})
        try:
            return aes_key_unwrap(kek, wrapped)
        except (InvalidUnwrap, ValueError):
            raise IntegrityError(
                N_("wrapped data key does not unwrap under key %(shown)s"), {"shown": shown}
            ) from None

    def rewrap(self, key_id: str, wrapped: bytes) -> tuple[str, bytes]:
        """Unwrap under ``key_id`` and wrap again under the current key (for ``mla keys
        rotate``). Blobs are not touched: their data key does not change."""
        data_key = self.unwrap(key_id, wrapped)
        return self.wrap(data_key)

    def add_key(self) -> str:
        """Generate a new key and make it current; older active keys keep unwrapping."""
        with self._locked() as doc:
            numbers = [int(e["id"][1:]) for e in doc["keys"]]
            key_id = f"k{max(numbers) + 1}"
            doc["keys"].append(self._new_entry(key_id))
            doc["current"] = key_id
        return key_id

    def retire(self, key_id: str, in_use_count: int) -> None:
        """Erase the material of ``key_id``; irreversible.

        ``in_use_count`` is how many stored data keys are still wrapped under it (the caller
        counts attachment rows). Raises NotFound for an unknown id, Conflict if it is the
        current key or ``in_use_count`` is not zero. Retiring a retired key does nothing.
        """
        if in_use_count < 0:
            raise ValueError("in_use_count cannot be negative")
        with self._locked() as doc:
            entry = next((e for e in doc["keys"] if e["id"] == key_id), None)
            if entry is None:
                raise NotFound(N_("key %(key_id)s not in keyring"), {"key_id": key_id[:64]})
            if entry["status"] == "retired":
                return
            if key_id == doc["current"]:
                raise Conflict(
                    N_("key %(key_id)s is the current key; add a new key first"), {"key_id": key_id}
                )
            if in_use_count:
                raise Conflict(
                    N_(
                        "key %(key_id)s still wraps %(in_use_count)s data key(s); re-wrap them "
                        "first"
                    ),
                    {"key_id": key_id, "in_use_count": in_use_count},
                )
            entry["status"] = "retired"
            entry["retired"] = _now()
            del entry["key"]


_OPEN_LOCK = threading.Lock()


def app_keyring(app: Flask) -> Keyring:
    """The keyring of ``app`` (``MLA_KEYRING_FILE``), opened once and shared by its threads:
    it wraps evidence data keys and the data keys of webhook signing secrets."""
    with _OPEN_LOCK:
        keyring = app.extensions.get("mla.keyring")
        if keyring is None:
            keyring = app.extensions["mla.keyring"] = Keyring.open(app.config["MLA_KEYRING_FILE"])
    return keyring
