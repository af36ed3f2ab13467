"""The evidence service: upload, list, download, custody, bad input and tamper detection."""

from __future__ import annotations

import hashlib
import io
import os
import time

import pytest

from mla.audit import chain
from mla.audit.models import EventKind
from mla.errors import IntegrityError, Invalid, NotFound
from mla.evidence.leftovers import LEFTOVER_AGE
from mla.evidence.models import Attachment
from mla.evidence.storage import new_storage_key
from mla.requests.service import Actor

from .conftest import LIMIT, PDF, files_under


def blob_path(store, attachment: Attachment):
    return store.root / attachment.storage_key[:2] / attachment.storage_key


def test_round_trip_records_custody_in_the_hash_chain(
    evidence, upload, received, world, store, service, session
):
    att = upload(received)
    assert (att.filename, att.media_type, att.size) == ("extracto.pdf", "application/pdf", len(PDF))
    assert att.sha256 == hashlib.sha256(PDF).hexdigest()
    assert att.uploaded_by_id == world.mex_clerk.id
    assert att.uploaded_by_authority_id == world.mex.id
    blob = blob_path(store, att).read_bytes()
    assert PDF[:64] not in blob  # stored encrypted

    arg = Actor.for_user(world.arg_clerk)
    assert evidence.list(received, arg) == [att]
    with evidence.download(received, arg, att.id) as download:
        assert b"".join(download.chunks) == PDF

    events = [e for e in service.history(received) if e.kind.startswith("evidence_")]
    assert [e.kind for e in events] == [EventKind.EVIDENCE_UPLOADED, EventKind.EVIDENCE_DOWNLOADED]
    uploaded, downloaded = events
    assert uploaded.actor_user_id == world.mex_clerk.id
    assert uploaded.data == {
        "attachment": att.id,
        "filename": "extracto.pdf",
        "media_type": "application/pdf",
        "size": len(PDF),
        "sha256": att.sha256,
    }
    assert downloaded.actor_user_id == world.arg_clerk.id
    assert downloaded.actor_authority_id == world.arg.id
    assert downloaded.data["sha256"] == att.sha256
    assert chain.verify_request(session, received) is None


def test_a_large_file_streams_across_many_segments(evidence, upload, received, world):
    data = os.urandom((2 << 20) + 12345)  # three segments, the last one partial
    att = upload(received, data, "video.bin")
    assert att.size == len(data) and att.media_type == "application/octet-stream"
    with evidence.download(received, Actor.for_user(world.mex_clerk), att.id) as download:
        assert b"".join(download.chunks) == data


def test_the_size_limit_is_enforced_while_streaming(evidence, upload, received, store):
    assert upload(received, b"x" * LIMIT, "exactly.txt").size == LIMIT
    with pytest.raises(Invalid, match="larger than the 3 MiB limit") as exc:
        upload(received, b"x" * (LIMIT + 1), "too-big.txt")
    assert exc.value.errors[0].field == "file"
    assert len(files_under(store.root)) == 1  # only the first upload's blob, no temp file


def test_an_empty_file_is_refused(upload, received, store, evidence, world):
    with pytest.raises(Invalid, match="empty") as exc:
        upload(received, b"", "empty.pdf")
    assert exc.value.errors[0].field == "file"
    assert files_under(store.root) == []
    assert evidence.list(received, Actor.for_user(world.mex_clerk)) == []


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\system32\\evil.pdf", "evil.pdf"),
        ("statement\x00\x1b[31m.pdf", "statement[31m.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
    ],
)
def test_filenames_are_sanitized(upload, received, given, kept):
    assert upload(received, name=given).filename == kept


@pytest.mark.parametrize("name", ["", "../..", "\x00\x01"])
def test_an_unusable_filename_is_refused(upload, received, name, store):
    with pytest.raises(Invalid) as exc:
        upload(received, name=name)
    assert exc.value.errors[0].field == "file"
    assert files_under(store.root) == []


@pytest.mark.parametrize(
    ("data", "name", "media_type"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "report.pdf", "image/png"),  # name does not win
        (b"<html><script>alert(1)</script></html>", "page.html", "text/plain"),
        (b"fecha,monto\n2025-01-02,100\n", "movimientos.csv", "text/csv"),
        (b"\x00\x01\x02\x03garbage", "x.pdf", "application/octet-stream"),
    ],
)
def test_the_media_type_is_sniffed_from_the_content(upload, received, data, name, media_type):
    assert upload(received, data, name).media_type == media_type


def test_an_attachment_of_another_request_is_not_found(evidence, upload, received, new_mla, world):
    att = upload(received)
    other = new_mla()
    arg = Actor.for_user(world.arg_clerk)
    with pytest.raises(NotFound):
        evidence.get(other, arg, att.id)
    with pytest.raises(NotFound):
        evidence.download(other, arg, att.id)


# --- tampering ---------------------------------------------------------------------------


def flip_byte(path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_tampered_blob_fails_download_and_verification(
    evidence, upload, received, world, store, service, session
):
    data = os.urandom(3 << 20)
    att = upload(received, data, "records.bin")
    flip_byte(blob_path(store, att), len(data) // 2)  # inside segment 1
    with evidence.download(received, Actor.for_user(world.mex_clerk), att.id) as download:
        received_bytes = bytearray()
        with pytest.raises(IntegrityError, match="segment 1 failed authentication"):
            for chunk in download.chunks:
                received_bytes += chunk
    assert bytes(received_bytes) == data[: 1 << 20]  # only the verified segment 0

    with pytest.raises(IntegrityError, match=f"attachment {att.id}"):
        evidence.verify(att)
    results = list(evidence.verify_all())
    assert [(a.id, type(e)) for a, e in results] == [(att.id, IntegrityError)]
    verified = [e for e in service.history(received) if e.kind == EventKind.EVIDENCE_VERIFIED]
    assert [e.data["result"] for e in verified] == ["failed", "failed"]
    assert chain.verify_request(session, received) is None


def test_a_blob_swapped_with_another_attachments_fails(evidence, upload, received, world, store):
    first, second = upload(received, b"first " * 100), upload(received, b"second " * 100)
    blob_path(store, first).write_bytes(blob_path(store, second).read_bytes())
    with (
        evidence.download(received, Actor.for_user(world.mex_clerk), first.id) as download,
        pytest.raises(IntegrityError, match="belongs to another attachment"),
    ):
        b"".join(download.chunks)


def test_a_missing_blob_is_an_integrity_error(evidence, upload, received, world, store):
    att = upload(received)
    blob_path(store, att).unlink()
    with pytest.raises(IntegrityError, match="missing"):
        evidence.download(received, Actor.for_user(world.mex_clerk), att.id)


def test_a_changed_digest_fails_after_the_last_segment(evidence, upload, received, world):
    att = upload(received)
    att.sha256 = hashlib.sha256(b"something else").hexdigest()
    with (
        evidence.download(received, Actor.for_user(world.mex_clerk), att.id) as download,
        pytest.raises(IntegrityError, match="SHA-256"),
    ):
        b"".join(download.chunks)


def test_verification_of_sound_evidence_is_recorded(evidence, upload, received, service):
    att = upload(received)
    evidence.verify(att)
    assert [(a, e) for a, e in evidence.verify_all([att.id])] == [(att, None)]
    verified = [e for e in service.history(received) if e.kind == EventKind.EVIDENCE_VERIFIED]
    assert [e.data["result"] for e in verified] == ["ok", "ok"]
    with pytest.raises(NotFound, match="no attachment 999999"):
        list(evidence.verify_all([att.id, 999999]))


def test_an_upload_stream_that_fails_leaves_nothing(evidence, received, world, store):
    class Broken(io.RawIOBase):
        sent = 0

        def readable(self) -> bool:
            return True

        def readinto(self, b) -> int:
            if self.sent > (2 << 20):
                raise OSError("connection reset by peer")
            b[:] = b"\xab" * len(b)
            self.sent += len(b)
            return len(b)

    with pytest.raises(OSError, match="reset"):
        evidence.upload(received, Actor.for_user(world.mex_clerk), "x.bin", Broken())
    assert files_under(store.root) == []
    assert evidence.list(received, Actor.for_user(world.mex_clerk)) == []


def test_the_sweep_removes_old_leftovers_and_never_a_referenced_blob(
    evidence, upload, received, store
):
    attachment = upload(received)
    referenced = store.root / attachment.storage_key[:2] / attachment.storage_key
    orphan, young = new_storage_key(), new_storage_key()
    for key in (orphan, young):
        with store.writer(key) as f:
            f.write(b"ciphertext of an upload whose row never committed")
    partial = store.root / "ab" / ".ab12.x.tmp"
    partial.parent.mkdir(exist_ok=True)
    partial.write_bytes(b"half an upload")
    old = time.time() - 2 * LEFTOVER_AGE
    for path in (referenced, store.root / orphan[:2] / orphan, partial):
        os.utime(path, (old, old))

    seen = evidence.sweep_leftovers(dry_run=True)
    assert (seen.temporaries, seen.orphans) == (["ab/.ab12.x.tmp"], [orphan])
    assert partial.exists() and store.exists(orphan)
    assert evidence.sweep_leftovers() == seen
    assert not partial.exists() and not store.exists(orphan)
    assert store.exists(young)  # too recent: it may be an upload about to commit
    assert evidence.sweep_leftovers(0).orphans == [young]
    assert referenced.exists()
    evidence.verify(attachment)
