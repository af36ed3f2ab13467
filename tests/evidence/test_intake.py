"""Uploaded file names and media types: nothing the uploader says is taken on trust."""

from __future__ import annotations

import io
import zipfile

import pytest

from mla.errors import Invalid
from mla.evidence.intake import MAX_FILENAME_LENGTH, sanitize_filename, sniff_media_type


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("bank-statement.pdf", "bank-statement.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\clerk\\Desktop\\hearing.mp4", "hearing.mp4"),
        ("/var/evidence/../../root/.ssh/id_rsa", "id_rsa"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("statement\x00.pdf", "statement.pdf"),
        ("line\nbreak\r\t.txt", "linebreak.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # right-to-left override removed
        ("zero\u200bwidth.doc", "zerowidth.doc"),
        ("Cafe\u0301 déclaration.pdf", "Café déclaration.pdf"),  # NFD in, NFC out
        (".hidden", "hidden"),
        ("  spaced name.txt  ", "spaced name.txt"),
        ("trailing dots...", "trailing dots"),
        ("extradición — México.docx", "extradición — México.docx"),
    ],
)
def test_sanitize_filename(raw: str, clean: str) -> None:
    assert sanitize_filename(raw) == clean


@pytest.mark.parametrize(
    "raw", ["", "   ", ".", "..", "...", "/", "a/", "dir/..", "\x00\x01", "\u202e"]
)
def test_a_name_with_nothing_left_is_invalid_on_field_file(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        sanitize_filename(raw)
    assert [e.field for e in caught.value.errors] == ["file"]


def test_a_long_name_is_shortened_keeping_its_extension() -> None:
    name = "x" * 500 + ".pdf"
    clean = sanitize_filename(name)
    assert len(clean) == MAX_FILENAME_LENGTH
    assert clean.endswith("x.pdf")


def test_a_long_name_with_an_absurd_extension_is_cut_plainly() -> None:
    clean = sanitize_filename("report." + "y" * 400, max_length=50)
    assert clean == ("report." + "y" * 400)[:50]


def test_shortening_does_not_strand_a_combining_accent() -> None:
    clean = sanitize_filename("a" * 9 + "q\u0301" + "b" * 10 + ".txt", max_length=14)
    assert clean == "a" * 9 + ".txt"


def _zip(*names: str, first_stored: tuple[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        if first_stored:
            z.writestr(zipfile.ZipInfo(first_stored[0]), first_stored[1])
        for name in names:
            z.writestr(name, "<xml/>" * 50)
    return buf.getvalue()


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

SAMPLES = {
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "x.bin", "application/pdf"),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "", "image/png"),
    "jpeg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "", "image/jpeg"),
    "gif": (b"GIF89a\x01\x00\x01\x00", "", "image/gif"),
    "tiff-le": (b"II*\x00\x08\x00\x00\x00", "", "image/tiff"),
    "tiff-be": (b"MM\x00*\x00\x00\x00\x08", "", "image/tiff"),
    "webp": (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "", "image/webp"),
    "heic": (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "", "image/heic"),
    "docx": (_zip("[Content_Types].xml", "_rels/.rels", "word/document.xml"), "a", DOCX),
    "xlsx": (_zip("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml"), "a", XLSX),
    "odt": (
        _zip("content.xml", first_stored=("mimetype", b"application/vnd.oasis.opendocument.text")),
        "",
        "application/vnd.oasis.opendocument.text",
    ),
    "zip": (_zip("photos/1.jpg", "photos/2.jpg"), "evidence.docx", "application/zip"),
    "ole-doc": (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
        "old.DOC",
        "application/msword",
    ),
    "ole-msg": (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
        "m.msg",
        "application/vnd.ms-outlook",
    ),
    "mp4": (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2", "", "video/mp4"),
    "mov": (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "", "video/quicktime"),
    "m4a": (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "", "audio/mp4"),
    "webm": (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "", "video/webm"),
    "mkv": (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", "", "video/x-matroska"),
    "mp3-id3": (b"ID3\x04\x00\x00\x00\x00\x00\x00", "", "audio/mpeg"),
    "mp3-frame": (b"\xff\xfb\x90\x64\x00\x00\x00\x00", "", "audio/mpeg"),
    "wav": (b"RIFF\x24\x08\x00\x00WAVEfmt ", "", "audio/wav"),
    "avi": (b"RIFF\x24\x08\x00\x00AVI LIST", "", "video/x-msvideo"),
    "ogg": (b"OggS\x00\x02" + b"\x00" * 22 + b"\x01vorbis", "", "audio/ogg"),
    "flac": (b"fLaC\x00\x00\x00\x22", "", "audio/flac"),
    "gzip": (b"\x1f\x8b\x08\x00", "", "application/gzip"),
    "text": ("Declaración del testigo, 12 de marzo.\n".encode(), "notes", "text/plain"),
    "csv": (b"date,amount,account\n2026-03-12,1500.00,ES91\n", "ledger.CSV", "text/csv"),
    "csv-named-pdf": (b"a,b\n1,2\n", "ledger.pdf", "text/plain"),
    "html-is-just-text": (b"<html><script>alert(1)</script>", "x.html", "text/plain"),
    "text-cut-mid-char": ("año".encode()[:2], "", "text/plain"),
    "binary-with-nul": (b"abc\x00def", "a.txt", "application/octet-stream"),
    "not-utf8": (b"\xc3\x28 latin soup \xe9", "a.txt", "application/octet-stream"),
    "control-bytes": (b"\x01\x02\x03\x04", "", "application/octet-stream"),
    "aac-is-not-mp3": (b"\xff\xf1\x50\x80\x00\x1f\xfc", "", "application/octet-stream"),
    "empty": (b"", "a.pdf", "application/octet-stream"),
    "exe": (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff",
        "a.pdf",
        "application/octet-stream",
    ),
}


@pytest.mark.parametrize(("head", "filename", "expected"), SAMPLES.values(), ids=SAMPLES.keys())
def test_sniff_media_type(head: bytes, filename: str, expected: str) -> None:
    assert sniff_media_type(head, filename) == expected
