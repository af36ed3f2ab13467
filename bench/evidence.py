"""Evidence throughput through the evidence service, against its floor measured in the same run.

    .venv/bin/python bench/evidence.py [--size MIB] [--runs N] [--folder DIR]

*Ours*: ``EvidenceService.upload`` (stream → AES-256-GCM STREAM segments + SHA-256 → temp
file, fsync, rename → attachment row and custody event, committed on SQLite) and
``EvidenceService.download`` (custody event committed, then every segment decrypted and
verified, digest checked). *Floor*: the same bytes through raw AES-256-GCM and SHA-256 into a
plain file (fsynced too, since the service's blob must be durable before its row commits),
and back. Best of ``--runs`` each, alternating, so that disk writeback hurts both alike.
Prints MiB/s, the ratio ours/floor (target >= 0.8 both ways) and the process's peak memory,
which stays far below the file's size because nothing holds more than a segment or two.

``--http`` [--size 512] [--runs 2]: the same through the real servers instead (``mla serve``'s
cheroot and gunicorn), beside each server receiving and sending the bytes alone; see
``bench/evidence_http.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from mla import create_app, migrate
from mla.app_services import evidence_service, request_service
from mla.authorities import service as authorities
from mla.db import get_session, unit_of_work
from mla.evidence.crypto import SEGMENT_SIZE, TAG_SIZE
from mla.requests.models import Request
from mla.requests.service import Actor
from tests.factories import MLA_FIELDS


class Source(io.RawIOBase):
    """``total`` bytes made of one repeated random block, never held in memory at once
    (what a socket hands the service)."""

    def __init__(self, block: bytes, total: int) -> None:
        self.block, self.left = block, total

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        n = min(len(self.block) if n < 0 else n, self.left, len(self.block))
        self.left -= n
        return self.block[:n]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def floor_write(path: Path, block: bytes, count: int, key: bytes) -> None:
    aead, digest = AESGCM(key), hashlib.sha256()
    with open(path, "wb") as f:
        for i in range(count):
            digest.update(block)
            f.write(aead.encrypt(i.to_bytes(12, "big"), block, b"ctx"))
        f.flush()
        os.fsync(f.fileno())
    digest.hexdigest()


def floor_read(path: Path, key: bytes) -> None:
    aead, digest = AESGCM(key), hashlib.sha256()
    with open(path, "rb") as f:
        i = 0
        while chunk := f.read(SEGMENT_SIZE + TAG_SIZE):
            digest.update(aead.decrypt(i.to_bytes(12, "big"), chunk, b"ctx"))
            i += 1
    digest.hexdigest()


def best(runs: int, floor: Callable[[], None], ours: Callable[[], None]) -> tuple[float, float]:
    times: tuple[list[float], list[float]] = ([], [])
    pairs = [(floor, times[0]), (ours, times[1])]
    for n in range(runs):
        # Swap the order every run: writeback of one file must not always land on the other.
        for fn, bucket in pairs if n % 2 == 0 else pairs[::-1]:
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return min(times[0]), min(times[1])


def main() -> None:
    if "--http" in sys.argv:
        import evidence_http  # beside this file

        evidence_http.main([a for a in sys.argv[1:] if a != "--http"])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=64, help="MiB per file (report 512)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    size_mib, count = args.size, args.size
    block, key = os.urandom(SEGMENT_SIZE), os.urandom(32)

    with tempfile.TemporaryDirectory(dir=args.folder, prefix="mla-bench-") as tmp:
        folder = Path(tmp)
        app = create_app({"MLA_INSTANCE_DIR": str(folder / "instance")})
        engine = app.extensions["mla.db"].engine
        migrate.upgrade(engine)
        with app.app_context():
            with unit_of_work() as session:
                authorities.add_authority(session, "ARG-DAJIN", country="AR", name="DAJIN")
                authorities.add_authority(
                    session, "MEX-FGR", country="MX", name="FGR", languages=["es"]
                )
                user = authorities.add_user(
                    session, "bench", authority_code="ARG-DAJIN", role="clerk",
                    email="bench@example.org", password="bench-password-42",
                )  # fmt: skip
                request = request_service().create(
                    Actor.for_user(user), kind="mla", requested_authority="MEX-FGR",
                    legal_basis="untoc-18", fields=MLA_FIELDS,
                )  # fmt: skip
            request_id, user_id = request.id, user.id
            get_session().close()

        uploaded: list[int] = []

        def ours_upload() -> None:
            with app.app_context():
                with unit_of_work() as session:
                    request = session.get_one(Request, request_id)
                    actor = Actor.for_user(session.get_one(authorities.User, user_id))
                    stream = Source(block, count * SEGMENT_SIZE)
                    att = evidence_service().upload(request, actor, "bench.bin", stream)
                uploaded.append(att.id)
                get_session().close()

        def ours_download() -> None:
            with app.app_context():
                with unit_of_work() as session:
                    request = session.get_one(Request, request_id)
                    actor = Actor.for_user(session.get_one(authorities.User, user_id))
                    download = evidence_service().download(request, actor, uploaded[-1])
                with download:
                    for _ in download.chunks:
                        pass
                get_session().close()

        floor_files: list[Path] = []

        def floor_up() -> None:
            # A new file each run, as the service writes a new blob each run.
            floor_files.append(folder / f"floor-{len(floor_files)}.bin")
            floor_write(floor_files[-1], block, count, key)

        f_up, o_up = best(args.runs, floor_up, ours_upload)
        f_down, o_down = best(args.runs, lambda: floor_read(floor_files[-1], key), ours_download)
        peak = peak_mib()
        engine.dispose()

    print(f"evidence service, {size_mib} MiB file, best of {args.runs} (SQLite, {args.folder})")
    print(
        f"encrypt+store : floor {size_mib / f_up:7.0f} MiB/s  ours {size_mib / o_up:7.0f} MiB/s"
        f"  ratio {f_up / o_up:.2f}"
    )
    print(
        f"read+decrypt  : floor {size_mib / f_down:7.0f} MiB/s  ours {size_mib / o_down:7.0f} MiB/s"
        f"  ratio {f_down / o_down:.2f}"
    )
    print(f"peak resident memory of the whole run: {peak:.0f} MiB, for {size_mib} MiB files")


if __name__ == "__main__":
    main()
