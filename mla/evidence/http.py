"""Evidence over HTTP, shared by the API and the web UI: reading an upload from the request's
socket stream, and serving a :class:`~mla.evidence.release.Download`.

An upload is read by :func:`open_upload` straight from the WSGI input, never through
``request.files`` or ``request.form`` (which spool file parts to temporary files): with a
server that hands the app the socket stream (cheroot under ``mla serve``, gunicorn), plaintext
exists only in memory, a bounded buffer at a time, until the evidence service encrypts it.

On download, the plaintext streams segment by segment, each verified before it is sent. When
a segment fails (a damaged blob) or the digest differs at the end, the response has already
started, so it cannot become an error page: the generator raises, the WSGI server drops the
connection, and because ``Content-Length`` announced the full size the client sees an
incomplete body, an error, never a clean short file.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from urllib.parse import quote

from flask import Request, Response

from mla.errors import N_, FieldError, IntegrityError, Malformed
from mla.evidence.multipart import MultipartFile
from mla.evidence.release import Download
from mla.evidence.service import too_large

#: Room for the multipart framing and small form fields around a file of the largest size.
ENVELOPE = 1 << 20


class UnsupportedMediaType(Exception):
    """The body is not ``multipart/form-data``; each boundary answers in its own way."""


def open_upload(request: Request, max_bytes: int, field: str = "file") -> MultipartFile:
    """The file in form field ``field`` of ``request``'s multipart body, read as it arrives.

    Requires that nothing has read the body yet. Raises UnsupportedMediaType unless the body
    is ``multipart/form-data``; Malformed when it has no boundary or cannot be parsed; TooLarge
    on ``field`` at once when the declared ``Content-Length`` exceeds ``max_bytes`` plus the
    envelope (a body without a length is stopped by the evidence service as it crosses the
    limit); as :class:`MultipartFile` otherwise.
    """
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType(request.mimetype)
    boundary = request.mimetype_params.get("boundary")
    if not boundary:
        raise Malformed(FieldError(field, N_("the Content-Type has no multipart boundary")))
    length = request.content_length
    if length is not None and length > max_bytes + ENVELOPE:
        raise too_large(max_bytes, field)
    return MultipartFile(request.stream, boundary, field)


log = logging.getLogger(__name__)


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name as RFC 6266 ``filename*``
    (RFC 8187 UTF-8 percent-encoding), so that no browser renders the evidence inline."""
    fallback = "".join(
        c if 0x20 <= ord(c) < 0x7F and c not in '"\\;%' else "_" for c in filename
    ).strip()
    exact = quote(filename, safe="")
    return f"attachment; filename=\"{fallback or 'evidence'}\"; filename*=UTF-8''{exact}"


def _stream(download: Download) -> Generator[bytes, None, None]:
    try:
        yield from download.chunks
    except IntegrityError:
        # Logged here because the server only sees an exception and drops the connection.
        log.error(
            "evidence download of attachment %s aborted: failed its integrity check",
            download.attachment.id,
            exc_info=True,
        )
        raise
    finally:
        download.close()


class _DownloadBody:
    """The response body: iterates the plaintext, and closes the blob when the server closes
    the response, even if iteration never started."""

    def __init__(self, download: Download) -> None:
        self._download = download
        self._iter = _stream(download)

    def __iter__(self) -> Iterator[bytes]:
        return self._iter

    def close(self) -> None:
        self._iter.close()
        self._download.close()


def download_response(download: Download) -> Response:
    """A streaming response for ``download`` (whose custody event the caller has committed).

    Headers: the sniffed ``Content-Type`` (no charset is guessed), ``Content-Length``,
    ``Content-Disposition: attachment``, ``X-Content-Type-Options: nosniff``, a sandboxing
    ``Content-Security-Policy``, ``Cache-Control: no-store``, and the plaintext digest as
    ``Repr-Digest: sha-256=:<base64>:`` (RFC 9530) and ``Digest: sha-256=<base64>`` (RFC 3230,
    for older clients). An integrity failure midway aborts the connection (module docstring).
    """
    attachment = download.attachment
    digest = download.sha256_base64
    response = Response(
        _DownloadBody(download),
        status=200,
        content_type=attachment.media_type,
        direct_passthrough=True,
    )
    response.headers["Content-Length"] = str(attachment.size)
    response.headers["Content-Disposition"] = content_disposition(attachment.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Repr-Digest"] = f"sha-256=:{digest}:"
    response.headers["Digest"] = f"sha-256={digest}"
    return response
