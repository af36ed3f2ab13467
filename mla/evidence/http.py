"""Serving a :class:`~mla.evidence.service.Download` over HTTP; the API and the web UI share it.

The plaintext streams segment by segment, each verified before it is sent. When a segment
fails (a damaged blob) or the digest differs at the end, the response has already started,
so it cannot become an error page: the generator raises, the WSGI server drops the
connection, and because ``Content-Length`` announced the full size the client sees an
incomplete body, an error, never a clean short file.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from urllib.parse import quote

from flask import Response

from mla.errors import IntegrityError
from mla.evidence.service import Download

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
