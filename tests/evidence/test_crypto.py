"""Streaming encryption: round trips, and every way a stored blob can be damaged or swapped."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from mla.errors import IntegrityError
from mla.evidence.crypto import (
    MAGIC,
    SEGMENT_SIZE,
    TAG_SIZE,
    Encryptor,
    decrypt_stream,
    encrypt_stream,
    read_header,
)
from mla.keyring import Keyring

SEG = 64  # tiny segments: many boundaries for little data
CONTEXT = b"attachment:0f1e2d3c4b5a69788796a5b4c3d2e1f0"


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    return Keyring.open(tmp_path / "keyring.json")


def encrypt(
    keyring: Keyring, plaintext: bytes, *, context: bytes = CONTEXT, segment_size: int = SEG
) -> tuple[Encryptor, bytes]:
    enc = Encryptor.create(keyring.wrap, context, segment_size=segment_size)
    blob = enc.header() + enc.update(plaintext) + enc.finalize()
    return enc, blob


def decrypt_all(blob: bytes, keyring: Keyring, context: bytes = CONTEXT, **kw: object) -> bytes:
    return b"".join(decrypt_stream(io.BytesIO(blob), keyring.unwrap, context, **kw))  # type: ignore[arg-type]


class Layout:
    """Offsets of a blob's parts, to damage them precisely."""

    def __init__(self, enc: Encryptor, blob: bytes, segment_size: int = SEG) -> None:
        self.header_len = len(enc.header())
        self.chunk = segment_size + TAG_SIZE
        self.blob = blob
        body = blob[self.header_len :]
        self.segments = [body[i : i + self.chunk] for i in range(0, len(body), self.chunk)]

    def start(self, n: int) -> int:
        return self.header_len + n * self.chunk

    def rebuild(self, segments: list[bytes]) -> bytes:
        return self.blob[: self.header_len] + b"".join(segments)


def flip(blob: bytes, offset: int, bit: int = 0) -> bytes:
    damaged = bytearray(blob)
    damaged[offset] ^= 1 << bit
    return bytes(damaged)


def assert_fails(
    blob: bytes,
    keyring: Keyring,
    plaintext: bytes,
    verified_segments: int,
    match: str,
    *,
    context: bytes = CONTEXT,
    segment_size: int = SEG,
) -> None:
    """The read fails with IntegrityError having released exactly the verified prefix."""
    released: list[bytes] = []
    with pytest.raises(IntegrityError, match=match):
        for part in decrypt_stream(io.BytesIO(blob), keyring.unwrap, context):
            released.append(part)
    assert b"".join(released) == plaintext[: verified_segments * segment_size]


# -- round trips ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size",
    [0, 1, SEGMENT_SIZE - 1, SEGMENT_SIZE, SEGMENT_SIZE + 1, 3 * SEGMENT_SIZE + 12345],
    ids=["empty", "one", "seg-1", "seg", "seg+1", "several"],
)
def test_round_trip_at_segment_boundaries(keyring: Keyring, size: int) -> None:
    plaintext = os.urandom(size)
    enc, blob = encrypt(keyring, plaintext, segment_size=SEGMENT_SIZE)
    segments = max(1, -(-size // SEGMENT_SIZE))
    assert len(blob) == len(enc.header()) + size + segments * TAG_SIZE
    assert decrypt_all(blob, keyring) == plaintext
    assert enc.size == size
    assert enc.sha256 == hashlib.sha256(plaintext).hexdigest()
    assert decrypt_all(blob, keyring, expected_sha256=enc.sha256) == plaintext


@pytest.mark.parametrize("chunking", [1, 7, SEG - 1, SEG, SEG + 1, 3 * SEG, 1000])
def test_output_does_not_depend_on_how_the_plaintext_is_fed(
    keyring: Keyring, chunking: int
) -> None:
    plaintext = os.urandom(10 * SEG)  # a multiple of the segment: the last one is full
    enc = Encryptor.create(keyring.wrap, CONTEXT, segment_size=SEG)
    parts = [enc.header()]
    for i in range(0, len(plaintext), chunking):
        parts.append(enc.update(memoryview(plaintext)[i : i + chunking]))
    parts.append(enc.finalize())
    blob = b"".join(parts)
    assert len(blob) == len(enc.header()) + len(plaintext) + 10 * TAG_SIZE
    assert decrypt_all(blob, keyring) == plaintext


def test_each_verified_segment_is_released_as_it_is_read(keyring: Keyring) -> None:
    plaintext = os.urandom(3 * SEG + 5)
    _, blob = encrypt(keyring, plaintext)
    parts = list(decrypt_stream(io.BytesIO(blob), keyring.unwrap, CONTEXT))
    assert [len(p) for p in parts] == [SEG, SEG, SEG, 5]


def test_encrypt_stream_writes_a_complete_blob(keyring: Keyring) -> None:
    plaintext = os.urandom(5 * SEG + 3)
    enc = Encryptor.create(keyring.wrap, CONTEXT, segment_size=SEG)
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(plaintext), out, enc, chunk_size=50)
    assert decrypt_all(out.getvalue(), keyring, expected_sha256=enc.sha256) == plaintext


def test_header_names_the_wrapping_key(keyring: Keyring) -> None:
    enc, blob = encrypt(keyring, b"statement")
    header = read_header(io.BytesIO(blob))
    assert (header.key_id, header.wrapped_key) == ("k1", enc.wrapped_key)
    assert header.segment_size == SEG
    assert header.raw == enc.header()
    assert keyring.unwrap(header.key_id, header.wrapped_key)  # the recovery path works


def test_the_encryptor_refuses_misuse(keyring: Keyring) -> None:
    enc, _ = encrypt(keyring, b"x")
    with pytest.raises(ValueError, match="finalized"):
        enc.update(b"more")
    with pytest.raises(ValueError, match="finalized"):
        enc.finalize()
    unfinished = Encryptor.create(keyring.wrap, CONTEXT)
    with pytest.raises(ValueError, match="finalize"):
        _ = unfinished.sha256
    with pytest.raises(ValueError, match="context"):
        Encryptor.create(keyring.wrap, b"")
    with pytest.raises(ValueError, match="32 bytes"):
        Encryptor(b"short", "k1", b"w" * 40, CONTEXT)


def test_two_encryptions_of_one_file_share_no_key_or_nonce(keyring: Keyring) -> None:
    a, blob_a = encrypt(keyring, b"same evidence")
    b, blob_b = encrypt(keyring, b"same evidence")
    assert a.wrapped_key != b.wrapped_key
    assert (
        read_header(io.BytesIO(blob_a)).nonce_prefix != read_header(io.BytesIO(blob_b)).nonce_prefix
    )


# -- damaged or substituted blobs -------------------------------------------------------

PLAINTEXT_LEN = 5 * SEG + 10  # six segments, the last one short


@pytest.fixture
def sample(keyring: Keyring) -> tuple[bytes, Layout]:
    plaintext = os.urandom(PLAINTEXT_LEN)
    enc, blob = encrypt(keyring, plaintext)
    return plaintext, Layout(enc, blob)


@pytest.mark.parametrize(
    ("offset", "match"),
    [
        (0, "bad magic"),
        (len(MAGIC), "version"),
        (len(MAGIC) + 1, "key id|not in keyring"),  # key id length
        (len(MAGIC) + 2, "not in keyring|key id"),  # key id itself
        (-30, "does not unwrap"),  # inside the wrapped key
        (-8, "segment 0 failed"),  # nonce prefix
        (-1, "segment 0 failed|segment size|truncated"),  # segment size
    ],
    ids=["magic", "version", "key-id-length", "key-id", "wrapped-key", "nonce", "segment-size"],
)
def test_flipped_bit_in_header(
    keyring: Keyring, sample: tuple[bytes, Layout], offset: int, match: str
) -> None:
    plaintext, layout = sample
    where = offset if offset >= 0 else layout.header_len + offset
    assert_fails(flip(layout.blob, where), keyring, plaintext, 0, match)


@pytest.mark.parametrize("segment", [0, 2, 5])
def test_flipped_bit_in_segment_ciphertext(
    keyring: Keyring, sample: tuple[bytes, Layout], segment: int
) -> None:
    plaintext, layout = sample
    damaged = flip(layout.blob, layout.start(segment) + 3, bit=5)
    assert_fails(damaged, keyring, plaintext, segment, f"segment {segment} failed")


def test_flipped_bit_in_tag(keyring: Keyring, sample: tuple[bytes, Layout]) -> None:
    plaintext, layout = sample
    damaged = flip(layout.blob, layout.start(3) + SEG + TAG_SIZE - 1, bit=7)
    assert_fails(damaged, keyring, plaintext, 3, "segment 3 failed")


@pytest.mark.parametrize(
    ("cut", "verified", "match"),
    [
        (lambda lay: 5, 0, "inside its header"),
        (lambda lay: lay.header_len, 0, "no segment after the header"),
        (lambda lay: lay.start(3) + 10, 3, "inside segment 3"),  # shorter than a tag
        (lambda lay: lay.start(3) + 40, 3, "segment 3 failed"),
        (lambda lay: lay.start(3), 2, "ends after segment 2, which is not the last"),
        (lambda lay: lay.start(5), 4, "ends after segment 4, which is not the last"),
        (lambda lay: len(lay.blob) - 1, 5, "segment 5 failed"),
    ],
    ids=[
        "in-header",
        "after-header",
        "in-segment",
        "mid-segment",
        "boundary",
        "last-dropped",
        "one-byte-short",
    ],
)
def test_truncated_blob(
    keyring: Keyring, sample: tuple[bytes, Layout], cut: object, verified: int, match: str
) -> None:
    plaintext, layout = sample
    at = cut(layout)  # type: ignore[operator]
    assert_fails(layout.blob[:at], keyring, plaintext, verified, match)


def test_dropped_segment(keyring: Keyring, sample: tuple[bytes, Layout]) -> None:
    plaintext, layout = sample
    segments = layout.segments[:2] + layout.segments[3:]
    assert_fails(layout.rebuild(segments), keyring, plaintext, 2, "segment 2 failed")


def test_duplicated_segment(keyring: Keyring, sample: tuple[bytes, Layout]) -> None:
    plaintext, layout = sample
    segments = layout.segments[:3] + layout.segments[2:]
    assert_fails(layout.rebuild(segments), keyring, plaintext, 3, "segment 3 failed")


def test_reordered_segments(keyring: Keyring, sample: tuple[bytes, Layout]) -> None:
    plaintext, layout = sample
    s = layout.segments
    segments = [s[0], s[1], s[3], s[2], s[4], s[5]]
    assert_fails(layout.rebuild(segments), keyring, plaintext, 2, "segment 2 failed")


def test_appended_garbage_after_a_short_last_segment(
    keyring: Keyring, sample: tuple[bytes, Layout]
) -> None:
    plaintext, layout = sample
    assert_fails(layout.blob + b"\x00" * 7, keyring, plaintext, 5, "segment 5 failed")


@pytest.mark.parametrize("extra", [1, SEG + TAG_SIZE, 3 * (SEG + TAG_SIZE) + 5])
def test_appended_data_after_a_full_last_segment(keyring: Keyring, extra: int) -> None:
    plaintext = os.urandom(4 * SEG)
    _, blob = encrypt(keyring, plaintext)
    assert_fails(blob + os.urandom(extra), keyring, plaintext, 3, "data after its last segment")


def test_blob_swapped_with_another_attachments(keyring: Keyring) -> None:
    plaintext = os.urandom(3 * SEG)
    _, other_blob = encrypt(keyring, plaintext, context=b"attachment:other")
    assert_fails(other_blob, keyring, plaintext, 0, "segment 0 failed")


def test_wrong_key_encryption_key(keyring: Keyring, tmp_path: Path) -> None:
    plaintext = os.urandom(2 * SEG)
    _, blob = encrypt(keyring, plaintext)
    stranger = Keyring.open(tmp_path / "other-keyring.json")  # also has a "k1"
    released: list[bytes] = []
    with pytest.raises(IntegrityError, match="does not unwrap under key k1"):
        for part in decrypt_stream(io.BytesIO(blob), stranger.unwrap, CONTEXT):
            released.append(part)
    assert released == []


def test_wrong_data_key(keyring: Keyring, sample: tuple[bytes, Layout]) -> None:
    _, layout = sample
    with pytest.raises(IntegrityError, match="segment 0 failed"):
        list(decrypt_stream(io.BytesIO(layout.blob), lambda _k, _w: os.urandom(32), CONTEXT))


def test_unknown_key_id(keyring: Keyring, tmp_path: Path) -> None:
    rotated = Keyring.open(tmp_path / "rotated.json")
    rotated.add_key()
    plaintext = os.urandom(SEG)
    _, blob = encrypt(rotated, plaintext)  # wrapped under k2
    released: list[bytes] = []
    with pytest.raises(IntegrityError, match="key k2 not in keyring"):
        for part in decrypt_stream(io.BytesIO(blob), keyring.unwrap, CONTEXT):
            released.append(part)
    assert released == []


def test_digest_mismatch_is_reported_after_the_last_segment(
    keyring: Keyring, sample: tuple[bytes, Layout]
) -> None:
    _, layout = sample
    stream = decrypt_stream(
        io.BytesIO(layout.blob), keyring.unwrap, CONTEXT, expected_sha256="0" * 64
    )
    with pytest.raises(IntegrityError, match="does not match its recorded SHA-256"):
        list(stream)


def test_not_an_evidence_blob(keyring: Keyring) -> None:
    with pytest.raises(IntegrityError, match="bad magic"):
        list(decrypt_stream(io.BytesIO(b"%PDF-1.7 plain file"), keyring.unwrap, CONTEXT))
    with pytest.raises(IntegrityError, match="inside its header"):
        list(decrypt_stream(io.BytesIO(b""), keyring.unwrap, CONTEXT))


def test_header_and_key_failures_raise_before_iteration(keyring: Keyring, tmp_path: Path) -> None:
    # The service relies on this to fail a download before its response starts.
    _, blob = encrypt(keyring, b"evidence")
    stranger = Keyring.open(tmp_path / "other.json")
    with pytest.raises(IntegrityError, match="does not unwrap"):
        decrypt_stream(io.BytesIO(blob), stranger.unwrap, CONTEXT)
    with pytest.raises(IntegrityError, match="bad magic"):
        decrypt_stream(io.BytesIO(b"x" * 100), keyring.unwrap, CONTEXT)


def test_expected_digest_is_compared_case_insensitively(keyring: Keyring) -> None:
    enc, blob = encrypt(keyring, b"evidence")
    assert decrypt_all(blob, keyring, expected_sha256=enc.sha256.upper()) == b"evidence"
