"""Streaming one file out of a ``multipart/form-data`` body without buffering it.

Werkzeug's ``request.files`` spools a whole upload before the view runs; evidence files can be
gigabytes, so the API drives Werkzeug's sans-IO :class:`MultipartDecoder` itself over the raw
WSGI input and hands the evidence service a file-like object that reads the named part as the
client sends it.
"""

from __future__ import annotations

from typing import IO

from werkzeug.sansio.multipart import (
    NEED_DATA,
    Data,
    Epilogue,
    Event,
    File,
    MultipartDecoder,
)

from mla.api.problems import ApiProblem
from mla.errors import FieldError, Invalid

CHUNK = 64 * 1024
MAX_OTHER_PARTS = 64 * 1024  # bytes of form fields other than the file, which are ignored


class MultipartFile:
    """The part named ``field`` of a multipart body read from ``stream``, as ``read(n)``."""

    def __init__(self, stream: IO[bytes], boundary: str, field: str = "file") -> None:
        self._stream = stream
        self._decoder = MultipartDecoder(boundary.encode("latin-1"), max_form_memory_size=None)
        self._buffer = b""
        self._more = True
        self.field = field
        self.filename = self._find()

    def _event(self) -> Event:
        while True:
            try:
                event = self._decoder.next_event()
            except ValueError:
                raise ApiProblem(400, "Malformed multipart body", "it cannot be parsed") from None
            if event is not NEED_DATA:
                return event
            # An empty read marks the end; the decoder then raises if the body was cut short.
            self._decoder.receive_data(self._stream.read(CHUNK) or None)

    def _find(self) -> str:
        skipped = 0
        while True:
            event = self._event()
            if isinstance(event, File) and event.name == self.field:
                return event.filename or ""
            if isinstance(event, Data):
                skipped += len(event.data)
                if skipped > MAX_OTHER_PARTS:
                    raise ApiProblem(413, "Content too large", "form fields besides file")
            elif isinstance(event, Epilogue):
                raise Invalid(FieldError(self.field, "send the file as form field 'file'"))

    def read(self, size: int = -1) -> bytes:
        while self._more and (size < 0 or len(self._buffer) < size):
            event = self._event()
            if isinstance(event, Data):
                self._buffer += event.data
                self._more = event.more_data
            else:  # the part ended without a final Data event
                self._more = False
        if size < 0:
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out
