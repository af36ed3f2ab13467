"""Static files of the web UI: fingerprinted URLs, gzip, and long caching.

Every ``url_for('web.static', filename=...)`` carries ``v=<content hash>`` (added by
:func:`fingerprint`), so a file's URL changes whenever its bytes do. Asked for with the
current hash, a file is cached for a year as ``immutable``; without it (or with an old
one) it must be revalidated (``no-cache`` with an ETag), so a stale copy is never used.
Text files are sent gzipped when the client accepts it, compressed once per process and
file version and kept in memory (the vendored diagram script is 3.5 MB, 0.9 MB gzipped).
``/favicon.ico`` is the same view, cached for a day, since browsers ask for that name.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Response, abort, request
from werkzeug.security import safe_join

ROOT = Path(__file__).resolve().parent / "static"
YEAR = 31_536_000
DAY = 86_400
# Worth compressing: text. Images and fonts are compressed already.
_COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")


@dataclass(frozen=True)
class _File:
    mtime_ns: int
    size: int
    digest: str
    body: bytes
    gzipped: bytes | None
    mimetype: str


class StaticFiles:
    """The files under ``root``, read once per version (size and mtime) and kept in memory."""

    def __init__(self, root: Path = ROOT) -> None:
        self.root = root
        self._files: dict[str, _File] = {}
        self._lock = threading.Lock()

    def _path(self, filename: str) -> Path | None:
        joined = safe_join(str(self.root), filename)
        if joined is None:
            return None
        path = Path(joined)
        return path if path.is_file() else None

    def get(self, filename: str) -> _File | None:
        """The file ``filename`` (relative to the root), or None when there is none."""
        path = self._path(filename)
        if path is None:
            return None
        stat = path.stat()
        known = self._files.get(filename)
        if known is not None and (known.mtime_ns, known.size) == (stat.st_mtime_ns, stat.st_size):
            return known
        with self._lock:
            body = path.read_bytes()
            mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if path.suffix == ".js":
                mimetype = "text/javascript"
            gzipped = None
            if mimetype.startswith(_COMPRESSIBLE) and len(body) > 1024:
                gzipped = gzip.compress(body, compresslevel=9, mtime=0)
            entry = _File(
                mtime_ns=stat.st_mtime_ns,
                size=stat.st_size,
                digest=hashlib.sha256(body).hexdigest()[:16],
                body=body,
                gzipped=gzipped,
                mimetype=mimetype,
            )
            self._files[filename] = entry
            return entry

    def digest(self, filename: str) -> str | None:
        entry = self.get(filename)
        return entry.digest if entry else None


FILES = StaticFiles()


def fingerprint(endpoint: str, values: dict[str, Any]) -> None:
    """``url_defaults`` hook: give every static URL its file's content hash."""
    if endpoint != "web.static" or "v" in values or "filename" not in values:
        return
    digest = FILES.digest(str(values["filename"]))
    if digest is not None:
        values["v"] = digest


def send(filename: str) -> Response:
    """The static file ``filename``: gzipped when accepted, cached for a year when asked
    for by its current hash, else revalidated by ETag."""
    entry = FILES.get(filename)
    if entry is None:
        abort(404)
    zipped = entry.gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", "")
    body = entry.gzipped if zipped and entry.gzipped is not None else entry.body
    response = Response(body, mimetype=entry.mimetype)
    if entry.gzipped is not None:
        response.headers["Vary"] = "Accept-Encoding"
    if zipped:
        response.headers["Content-Encoding"] = "gzip"
    response.set_etag(entry.digest + ("-gz" if zipped else ""))
    if request.args.get("v") == entry.digest:
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    elif filename == "favicon.ico":
        response.headers["Cache-Control"] = f"public, max-age={DAY}"
    else:
        response.headers["Cache-Control"] = "no-cache"
    response.make_conditional(request)
    return response
