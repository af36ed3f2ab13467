"""Streaming authenticated encryption of evidence blobs (format: ``FORMAT.md`` beside this file).

A blob is a header followed by segments of ``segment_size`` plaintext bytes, each sealed with
AES-256-GCM under a per-file data key. Nonces follow the STREAM construction
(prefix ‖ counter ‖ last flag), and every tag also covers the header and a caller-supplied
context, so a flipped bit, a truncated, reordered, duplicated or extended blob, a blob swapped
with another attachment's and a wrong key all fail with :class:`mla.errors.IntegrityError`
before any plaintext of the failing segment is released.

Memory stays flat: the encryptor holds one segment, the decryptor two (it reads one ahead to
learn which segment is the last).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mla.errors import N_, IntegrityError

MAGIC = b"\x89MLAEV\r\n"  # PNG-style: the high byte and CR LF catch text-mode mangling
VERSION = 1
SEGMENT_SIZE = 1 << 20
MIN_SEGMENT_SIZE = 64  # small segments exist only so tests can cross many boundaries cheaply
MAX_SEGMENT_SIZE = 16 << 20  # read before any tag is checked: bounds what a forged header costs
NONCE_PREFIX_SIZE = 7
TAG_SIZE = 16
DATA_KEY_SIZE = 32
MAX_KEY_ID_SIZE = 64
MAX_WRAPPED_KEY_SIZE = 1024
_MAX_SEGMENTS = 1 << 32  # the counter is a uint32; past it nonces would repeat

_KEY_ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")

Unwrap = Callable[[str, bytes], bytes]
Wrap = Callable[[bytes], tuple[str, bytes]]


@dataclass(frozen=True)
class Header:
    """The parsed header of a blob; ``raw`` is its exact bytes, bound into every tag."""

    version: int
    key_id: str
    wrapped_key: bytes
    nonce_prefix: bytes
    segment_size: int
    raw: bytes


def _check_segment_size(size: int) -> None:
    if not MIN_SEGMENT_SIZE <= size <= MAX_SEGMENT_SIZE:
        raise ValueError(f"segment size must be {MIN_SEGMENT_SIZE}..{MAX_SEGMENT_SIZE} bytes")


def _check_context(context: bytes) -> None:
    # An empty context would silently drop the binding to the attachment's identity.
    if not isinstance(context, bytes) or not context:
        raise ValueError("context must be non-empty bytes naming the attachment")


def encode_header(key_id: str, wrapped_key: bytes, nonce_prefix: bytes, segment_size: int) -> bytes:
    """Serialise a version-1 header; raises ValueError on out-of-range fields."""
    if not _KEY_ID_RE.fullmatch(key_id):
        raise ValueError("key id must be 1-64 characters of A-Z a-z 0-9 _ . -")
    if not 1 <= len(wrapped_key) <= MAX_WRAPPED_KEY_SIZE:
        raise ValueError(f"wrapped key must be 1..{MAX_WRAPPED_KEY_SIZE} bytes")
    if len(nonce_prefix) != NONCE_PREFIX_SIZE:
        raise ValueError(f"nonce prefix must be {NONCE_PREFIX_SIZE} bytes")
    _check_segment_size(segment_size)
    kid = key_id.encode("ascii")
    return b"".join(
        (
            MAGIC,
            bytes((VERSION, len(kid))),
            kid,
            _U16.pack(len(wrapped_key)),
            wrapped_key,
            nonce_prefix,
            _U32.pack(segment_size),
        )
    )


def read_exact(src: IO[bytes], n: int) -> bytes:
    """Read ``n`` bytes, fewer only at end of file (raw and socket streams may return short)."""
    data = src.read(n)
    if len(data) == n or not data:
        return data
    parts = [data]
    got = len(data)
    while got < n:
        more = src.read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def read_header(src: BinaryIO) -> Header:
    """Read and parse the header at the current position of ``src``, leaving it just after.

    The header is only *parsed* here; it is authenticated by the first segment's tag, so a
    caller must not trust its fields until :func:`decrypt_stream` has verified a segment.
    Raises IntegrityError for a bad magic, an unknown version, malformed fields or a short read.
    """
    parts: list[bytes] = []

    def take(n: int, what: str) -> bytes:
        data = read_exact(src, n)
        if len(data) != n:
            raise IntegrityError(
                N_("evidence blob truncated inside its header (%(what)s)"), {"what": what}
            )
        parts.append(data)
        return data

    if take(len(MAGIC), "magic") != MAGIC:
        raise IntegrityError(N_("not an mla evidence blob (bad magic)"))
    version, kid_len = take(2, "version")
    if version != VERSION:
        raise IntegrityError(
            N_("unsupported evidence format version %(version)s"), {"version": version}
        )
    if not 1 <= kid_len <= MAX_KEY_ID_SIZE:
        raise IntegrityError(N_("evidence header has a malformed key id"))
    try:
        key_id = take(kid_len, "key id").decode("ascii")
    except UnicodeDecodeError:
        key_id = ""
    if not _KEY_ID_RE.fullmatch(key_id):
        raise IntegrityError(N_("evidence header has a malformed key id"))
    (wrapped_len,) = _U16.unpack(take(2, "wrapped key length"))
    if not 1 <= wrapped_len <= MAX_WRAPPED_KEY_SIZE:
        raise IntegrityError(N_("evidence header has a malformed wrapped key"))
    wrapped_key = take(wrapped_len, "wrapped key")
    nonce_prefix = take(NONCE_PREFIX_SIZE, "nonce prefix")
    (segment_size,) = _U32.unpack(take(4, "segment size"))
    if not MIN_SEGMENT_SIZE <= segment_size <= MAX_SEGMENT_SIZE:
        raise IntegrityError(
            N_("evidence header has an out-of-range segment size %(segment_size)s"),
            {"segment_size": segment_size},
        )
    return Header(VERSION, key_id, wrapped_key, nonce_prefix, segment_size, b"".join(parts))


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if counter >= _MAX_SEGMENTS:
        raise ValueError("too many segments for one blob")
    return prefix + _U32.pack(counter) + (b"\x01" if last else b"\x00")


class Encryptor:
    """Encrypts one plaintext stream into one blob.

    Write ``header()``, then every ``update()`` result in order, then ``finalize()``. The
    encryptor holds back one full segment, because only the arrival of more data (or
    ``finalize``) tells whether it is the last. After ``finalize``, ``sha256`` (hex) and
    ``size`` describe the plaintext. The data key is used only through the AEAD object and is
    not kept as an attribute.
    """

    def __init__(
        self,
        data_key: bytes,
        key_id: str,
        wrapped_key: bytes,
        context: bytes,
        *,
        segment_size: int = SEGMENT_SIZE,
    ) -> None:
        if len(data_key) != DATA_KEY_SIZE:
            raise ValueError("data key must be 32 bytes (AES-256)")
        _check_context(context)
        self.key_id = key_id
        self.wrapped_key = wrapped_key
        self._header = encode_header(
            key_id, wrapped_key, secrets.token_bytes(NONCE_PREFIX_SIZE), segment_size
        )
        self._prefix = self._header[-4 - NONCE_PREFIX_SIZE : -4]
        self._aad = self._header + context
        self._aead = AESGCM(data_key)
        self._segment_size = segment_size
        # Copies go through a memoryview: ``bytearray[a:b] = memoryview`` would first make
        # a temporary bytearray of the source, an extra copy and allocation per segment.
        self._buf = memoryview(bytearray(segment_size))
        self._fill = 0
        self._counter = 0
        self._hash = hashlib.sha256()
        self._size = 0
        self._done = False

    @classmethod
    def create(cls, wrap: Wrap, context: bytes, *, segment_size: int = SEGMENT_SIZE) -> Encryptor:
        """A new encryptor under a fresh random data key, wrapped by ``wrap`` (``Keyring.wrap``).

        The caller stores ``key_id`` and ``wrapped_key`` with the attachment.
        """
        data_key = secrets.token_bytes(DATA_KEY_SIZE)
        key_id, wrapped = wrap(data_key)
        return cls(data_key, key_id, wrapped, context, segment_size=segment_size)

    def header(self) -> bytes:
        """The header bytes; they must come first in the blob."""
        return self._header

    def _seal(self, plaintext: memoryview, last: bool) -> bytes:
        nonce = _nonce(self._prefix, self._counter, last)
        self._counter += 1
        return self._aead.encrypt(nonce, plaintext, self._aad)

    def update(self, chunk: bytes | bytearray | memoryview) -> bytes:
        """Take more plaintext; return the ciphertext of every segment now known not to be last."""
        if self._done:
            raise ValueError("encryptor already finalized")
        view = memoryview(chunk).cast("B")
        n = len(view)
        if not n:
            return b""
        self._hash.update(view)
        self._size += n
        seg = self._segment_size
        out: list[bytes] = []
        pos = 0
        if self._fill:
            pos = min(seg - self._fill, n)
            self._buf[self._fill : self._fill + pos] = view[:pos]
            self._fill += pos
            if pos == n:
                return b""  # the buffer may now be full, but it could still be the last
            out.append(self._seal(self._buf, last=False))
            self._fill = 0
        # Whole segments straight from the caller's buffer: no copy into ours.
        while n - pos > seg:
            out.append(self._seal(view[pos : pos + seg], last=False))
            pos += seg
        rest = n - pos
        self._buf[:rest] = view[pos:]
        self._fill = rest
        if len(out) == 1:
            return out[0]
        return b"".join(out)

    def finalize(self) -> bytes:
        """Seal what is held as the last segment (empty for empty plaintext) and return it."""
        if self._done:
            raise ValueError("encryptor already finalized")
        self._done = True
        last = self._seal(self._buf[: self._fill], last=True)
        self._buf.release()
        return last

    @property
    def size(self) -> int:
        """Plaintext bytes taken so far."""
        return self._size

    @property
    def sha256(self) -> str:
        """Lowercase hex SHA-256 of the whole plaintext; only after ``finalize``."""
        if not self._done:
            raise ValueError("the digest is known only after finalize()")
        return self._hash.hexdigest()


def encrypt_stream(
    src: BinaryIO, dst: BinaryIO, encryptor: Encryptor, *, chunk_size: int = SEGMENT_SIZE
) -> None:
    """Encrypt everything ``src`` yields into ``dst``: header, segments, last segment."""
    dst.write(encryptor.header())
    while chunk := src.read(chunk_size):
        if out := encryptor.update(chunk):
            dst.write(out)
    dst.write(encryptor.finalize())


def decrypt_stream(
    src: BinaryIO,
    unwrap: Unwrap,
    context: bytes,
    *,
    expected_sha256: str | None = None,
) -> Iterator[bytes]:
    """Read the header of the blob in ``src`` and unwrap its data key now; return an iterator
    over the plaintext, one verified segment at a time.

    The header and key are handled at call time so that a download can fail cleanly before a
    response starts; segments are read and verified as the iterator is consumed.

    ``unwrap(key_id, wrapped_key)`` receives the header's values and must return the 32-byte
    data key (or raise IntegrityError). After a key rotation the attachment row, not the
    header, holds the current wrapping: the service's callback may ignore its arguments and
    unwrap the row's values. A wrong key is caught by the first tag either way.

    Guarantees: no byte of a segment is yielded before its tag verified under this header and
    ``context``. Raises IntegrityError for a malformed header, any altered byte, a truncated,
    reordered, duplicated or extended blob, another attachment's blob, a wrong key, and (after
    the last segment, when ``expected_sha256`` is given) a plaintext digest that differs.
    The caller must treat what it received before an error as unusable.
    """
    _check_context(context)
    header = read_header(src)
    data_key = unwrap(header.key_id, header.wrapped_key)
    if len(data_key) != DATA_KEY_SIZE:
        raise IntegrityError(
            N_("data key under key %(key_id)s has the wrong length"), {"key_id": header.key_id}
        )
    return _segments(src, header, AESGCM(data_key), header.raw + context, expected_sha256)


def _segments(
    src: BinaryIO, header: Header, aead: AESGCM, aad: bytes, expected_sha256: str | None
) -> Iterator[bytes]:
    chunk_size = header.segment_size + TAG_SIZE
    digest = hashlib.sha256() if expected_sha256 is not None else None

    def open_segment(chunk: bytes, counter: int, last: bool) -> bytes:
        return aead.decrypt(_nonce(header.nonce_prefix, counter, last), chunk, aad)

    counter = 0
    chunk = read_exact(src, chunk_size)
    if not chunk:
        raise IntegrityError(N_("evidence blob truncated: no segment after the header"))
    while True:
        if len(chunk) < TAG_SIZE:
            raise IntegrityError(
                N_("evidence blob truncated inside segment %(counter)s"), {"counter": counter}
            )
        # Reading one segment ahead is how a full-size segment learns whether it is the last.
        following = read_exact(src, chunk_size) if len(chunk) == chunk_size else b""
        last = not following
        try:
            plaintext = open_segment(chunk, counter, last)
        except InvalidTag:
            raise _diagnose(open_segment, chunk, counter, last) from None
        if digest is not None:
            digest.update(plaintext)
        yield plaintext
        if last:
            break
        chunk = following
        counter += 1
    if src.read(1):
        # Defensive: a stream that reported end of file and then produced more.
        raise IntegrityError(
            N_("evidence blob has data after its last segment (%(counter)s)"), {"counter": counter}
        )
    expected = (expected_sha256 or "").lower()
    if digest is not None and not hmac.compare_digest(digest.hexdigest(), expected):
        raise IntegrityError(N_("evidence plaintext does not match its recorded SHA-256"))


def _diagnose(
    open_segment: Callable[[bytes, int, bool], bytes], chunk: bytes, counter: int, last: bool
) -> IntegrityError:
    """Name the failure precisely; trying the other flag costs one more AES pass, on errors only."""
    try:
        open_segment(chunk, counter, not last)
    except InvalidTag:
        return IntegrityError(
            N_(
                "evidence segment %(counter)s failed authentication: the blob was altered, the "
                "key is wrong, or the blob belongs to another attachment"
            ),
            {"counter": counter},
        )
    if last:
        return IntegrityError(
            N_("evidence blob truncated: it ends after segment %(counter)s, which is not the last"),
            {"counter": counter},
        )
    return IntegrityError(
        N_("evidence blob has data after its last segment (%(counter)s)"), {"counter": counter}
    )
