"""Pure checks on what an uploader sends: the file's name and what its bytes really are.

Neither the name nor the browser's declared type is trusted: the name is only shown and offered
back on download, and the media type comes from the content's magic bytes. Text-like types
that a browser could render as active content (HTML, SVG, XML) are deliberately reported as
``text/plain``; downloads should still be served as attachments with ``nosniff``.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from mla.errors import N_, FieldError, Invalid, Message

MAX_FILENAME_LENGTH = 200
SNIFF_BYTES = 4096  # how much of the start of the plaintext sniff_media_type wants
OCTET_STREAM = "application/octet-stream"

_MAX_EXTENSION = 16
# Cc: controls; Cf: format characters such as U+202E, which makes "cod.exe" look like
# "exe.doc"; Zl/Zp: line and paragraph separators.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
_BINARY_CONTROLS = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


def _invalid(message: str) -> Invalid:
    return Invalid(FieldError("file", message))


def sanitize_filename(name: str, max_length: int = MAX_FILENAME_LENGTH) -> str:
    """A display-safe version of an uploaded file's name.

    Keeps only the last path component (``/`` and ``\\`` both separate), drops control and
    invisible format characters, normalises to NFC, trims surrounding spaces and leading or
    trailing dots (so nothing is hidden or made into ``..``), and shortens to ``max_length``
    characters while keeping an extension of up to 16 characters. Raises Invalid on field
    ``file`` if nothing usable is left.
    """
    if not isinstance(name, str):
        raise _invalid(Message(N_("the file name is missing")))
    name = unicodedata.normalize("NFC", name)
    name = "".join(c for c in name if unicodedata.category(c) not in _DROPPED_CATEGORIES)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = name.strip().strip(".").strip()
    if not name:
        raise _invalid(Message(N_("the file name is empty")))
    if len(name) > max_length:
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem or len(ext) > _MAX_EXTENSION or len(ext) + 2 > max_length:
            stem, ext = name, ""
        keep = max_length - (len(ext) + 1 if ext else 0)
        # Never cut between a base character and its combining marks (it would change
        # the letter); cut before the base instead. Then drop a dangling dot or space.
        while 0 < keep < len(stem) and unicodedata.combining(stem[keep]):
            keep -= 1
        stem = stem[:keep].rstrip(" .")
        if not stem:
            raise _invalid(Message(N_("the file name is empty")))
        name = f"{stem}.{ext}" if ext else stem
    return name


def _extension(filename: str) -> str:
    _, dot, ext = filename.rpartition(".")
    return ext.lower() if dot else ""


_SIMPLE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"ID3", "audio/mpeg"),
    (b"fLaC", "audio/flac"),
    (b"\x1f\x8b", "application/gzip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
)

_RIFF_FORMS = {b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo", b"WEBP": "image/webp"}

_OOXML_PARTS = (
    (b"word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (b"ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
)
_OOXML_BY_EXTENSION = {
    "docx": _OOXML_PARTS[0][1],
    "xlsx": _OOXML_PARTS[1][1],
    "pptx": _OOXML_PARTS[2][1],
}
_OLE_BY_EXTENSION = {
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "msg": "application/vnd.ms-outlook",
}
_QUICKTIME_BRANDS = {b"qt  "}
_HEIF_BRANDS = {b"heic", b"heix", b"mif1", b"msf1"}
_AUDIO_MP4_BRANDS = {b"M4A ", b"M4B "}


def _sniff_zip(head: bytes, ext: str) -> str:
    # ODF puts an uncompressed "mimetype" member first, so the type is readable in place.
    if head[30:38] == b"mimetype":
        declared = head[38 : 38 + 80].split(b"PK", 1)[0]
        if re.fullmatch(rb"application/vnd\.oasis\.opendocument\.[a-z.-]+", declared):
            return declared.decode("ascii")
    # OOXML: member names sit uncompressed in the local headers at the start of the archive.
    for part, media_type in _OOXML_PARTS:
        if b"[Content_Types].xml" in head and part in head:
            return media_type
    if ext in _OOXML_BY_EXTENSION and b"[Content_Types].xml" in head:
        return _OOXML_BY_EXTENSION[ext]
    return "application/zip"


def _sniff_iso_media(head: bytes) -> str:
    brand = head[8:12]
    if brand in _QUICKTIME_BRANDS:
        return "video/quicktime"
    if brand in _HEIF_BRANDS:
        return "image/heic"
    if brand in _AUDIO_MP4_BRANDS:
        return "audio/mp4"
    return "video/mp4"


def _is_mp3_frame(head: bytes) -> bool:
    if len(head) < 4 or head[0] != 0xFF:
        return False
    b1, b2 = head[1], head[2]
    return (
        b1 & 0xE0 == 0xE0  # frame sync
        and (b1 >> 3) & 3 != 1  # MPEG version not reserved
        and (b1 >> 1) & 3 == 1  # layer III
        and b2 >> 4 != 15  # bitrate index valid
        and (b2 >> 2) & 3 != 3  # sample rate valid
    )


def _is_text(head: bytes) -> bool:
    if _BINARY_CONTROLS.search(head):
        return False
    try:
        # Not final: the sample may end inside a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def sniff_media_type(first_bytes: bytes, filename: str = "") -> str:
    """The media type of a file from its first bytes (pass at least ``SNIFF_BYTES``).

    Detects PDF, PNG, JPEG, GIF, TIFF, WebP, HEIC, ZIP with OOXML and ODF documents, OLE
    (legacy Office, Outlook .msg), MP4, QuickTime, WebM, Matroska, MP3, FLAC, WAV, AVI, Ogg,
    gzip, 7-Zip, RAR, and UTF-8 text (CSV and TSV told apart by extension only). The file name
    only refines a type the bytes already establish; it never makes one up. Anything else,
    including an empty sample, is ``application/octet-stream``.
    """
    head = bytes(first_bytes[:SNIFF_BYTES])
    ext = _extension(filename)
    if not head:
        return OCTET_STREAM
    for magic, media_type in _SIMPLE_MAGIC:
        if head.startswith(magic):
            return media_type
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(head, ext)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _OLE_BY_EXTENSION.get(ext, "application/x-ole-storage")
    if head[4:8] == b"ftyp":
        return _sniff_iso_media(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if head.startswith(b"RIFF") and head[8:12] in _RIFF_FORMS:
        return _RIFF_FORMS[head[8:12]]
    if head.startswith(b"OggS"):
        return "video/ogg" if b"\x80theora" in head else "audio/ogg"
    if _is_mp3_frame(head):
        return "audio/mpeg"
    if _is_text(head):
        if ext == "csv":
            return "text/csv"
        if ext == "tsv":
            return "text/tab-separated-values"
        return "text/plain"
    return OCTET_STREAM
