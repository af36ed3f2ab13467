"""Throughput of evidence encryption against its floor: raw AES-256-GCM + SHA-256 + file I/O.

    .venv/bin/python bench/evidence_crypto.py [MiB] [folder]

Prints MiB/s for the floor and for mla.evidence.crypto, and their ratio (target >= 0.8), for
a real file in ``folder`` (default: the system temp folder) and for /dev/null (CPU only).
Best of five runs each, alternating, so that disk writeback hurts both alike.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mla.evidence.crypto import SEGMENT_SIZE, TAG_SIZE, Encryptor, decrypt_stream

CONTEXT = b"attachment:bench"


def floor_encrypt(path: str, block: bytes, count: int, key: bytes) -> None:
    aead, digest = AESGCM(key), hashlib.sha256()
    with open(path, "wb") as f:
        for i in range(count):
            digest.update(block)
            f.write(aead.encrypt(i.to_bytes(12, "big"), block, CONTEXT))


def ours_encrypt(path: str, block: bytes, count: int, key: bytes) -> None:
    enc = Encryptor(key, "k1", b"w" * 40, CONTEXT)
    with open(path, "wb") as f:
        f.write(enc.header())
        for _ in range(count):
            f.write(enc.update(block))
        f.write(enc.finalize())


def floor_decrypt(path: str, key: bytes) -> None:
    aead, digest = AESGCM(key), hashlib.sha256()
    with open(path, "rb") as f:
        i = 0
        while chunk := f.read(SEGMENT_SIZE + TAG_SIZE):
            digest.update(aead.decrypt(i.to_bytes(12, "big"), chunk, CONTEXT))
            i += 1


def ours_decrypt(path: str, key: bytes, sha256: str) -> None:
    with open(path, "rb") as f:
        for _ in decrypt_stream(f, lambda _k, _w: key, CONTEXT, expected_sha256=sha256):
            pass


def best_pair(
    floor: Callable[[], None], ours: Callable[[], None], runs: int = 5
) -> tuple[float, float]:
    """Best time of each, alternating runs so that disk writeback hurts both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for fn, bucket in ((floor, times[0]), (ours, times[1])):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return min(times[0]), min(times[1])


def main() -> None:
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 512
    folder = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.gettempdir())
    key, block = os.urandom(32), os.urandom(SEGMENT_SIZE)
    digest = hashlib.sha256()
    for _ in range(mib):
        digest.update(block)
    sha256 = digest.hexdigest()
    floor_file, ours_file = str(folder / "bench-floor.bin"), str(folder / "bench-ours.bin")
    try:
        for floor_sink, ours_sink, where in (
            (floor_file, ours_file, "file"),
            (os.devnull, os.devnull, "/dev/null"),
        ):
            f, o = best_pair(
                lambda s=floor_sink: floor_encrypt(s, block, mib, key),
                lambda s=ours_sink: ours_encrypt(s, block, mib, key),
            )
            print(
                f"encrypt {mib} MiB to {where:9}: floor {mib / f:7.0f} MiB/s  "
                f"ours {mib / o:7.0f} MiB/s  ratio {f / o:.2f}"
            )
        f, o = best_pair(
            lambda: floor_decrypt(floor_file, key), lambda: ours_decrypt(ours_file, key, sha256)
        )
        print(
            f"decrypt {mib} MiB from file     : floor {mib / f:7.0f} MiB/s  "
            f"ours {mib / o:7.0f} MiB/s  ratio {f / o:.2f}"
        )
    finally:
        for path in (floor_file, ours_file):
            if os.path.exists(path):
                os.unlink(path)


if __name__ == "__main__":
    main()
