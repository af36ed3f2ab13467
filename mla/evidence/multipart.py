"""Streaming one file out of a ``multipart/form-data`` body without buffering it.

Werkzeug's ``request.files`` and ``request.form`` spool file parts to a temporary file before
the view runs, which would put evidence in clear on disk. The API and the web UI instead drive
Werkzeug's sans-IO :class:`MultipartDecoder` over the raw WSGI input and hand the evidence
service a file-like object that reads the named part as the client sends it: plaintext is only
ever in memory, a chunk at a time. Small form fields sent before the file (the web form's CSRF
token) are kept; the rest of the body after the file is read and dropped, within a bound.
"""

from __future__ import annotations

from typing import IO

from werkzeug.sansio.multipart import (
    NEED_DATA,
    Data,
    Epilogue,
    Event,
    Field,
    File,
    MultipartDecoder,
)

from mla.errors import N_, FieldError, Invalid, Malformed, TooLarge

CHUNK = 64 * 1024
MAX_OTHER_PARTS = 64 * 1024  # bytes of form fields other than the file, and their headers


class MultipartFile:
    """The part named ``field`` of a multipart body read from ``stream``, as ``read(n)``.

    Construction reads up to the start of that part: ``filename`` is the name the client gave,
    ``fields`` the text fields that came before it. Raises Malformed for a body that cannot be
    parsed or ends early, TooLarge when the other parts exceed ``MAX_OTHER_PARTS``, Invalid on
    ``field`` when the body has no such part.
    """

    def __init__(self, stream: IO[bytes], boundary: str, field: str = "file") -> None:
        self._stream = stream
        self._decoder = MultipartDecoder(boundary.encode("latin-1"), max_form_memory_size=None)
        # The file's data as the decoder handed it, not yet read: joined only when read, so
        # each byte is copied once here.
        self._parts: list[bytes] = []
        self._buffered = 0
        self._more = True
        self._other = 0  # bytes of other parts seen
        self.field = field
        self.fields: dict[str, str] = {}
        self.filename = self._find()

    def _count(self, size: int) -> None:
        self._other += size
        if self._other > MAX_OTHER_PARTS:
            raise TooLarge(
                FieldError(
                    self.field,
                    N_("form fields besides '%(field)s' exceed 64 KiB"),
                    {"field": self.field},
                )
            )

    def _event(self) -> Event:
        while True:
            try:
                event = self._decoder.next_event()
            except ValueError:
                raise Malformed(
                    FieldError(self.field, N_("the multipart body cannot be parsed"))
                ) from None
            if event is not NEED_DATA:
                return event
            # Headers, or an epilogue, without end: never let the decoder's buffer grow.
            if len(self._decoder.buffer) > MAX_OTHER_PARTS:
                self._count(len(self._decoder.buffer))
            # An empty read marks the end; the decoder then raises if the body was cut short.
            self._decoder.receive_data(self._stream.read(CHUNK) or None)

    def _find(self) -> str:
        name: str | None = None
        values: dict[str, bytearray] = {}
        while True:
            event = self._event()
            if isinstance(event, File) and event.name == self.field:
                self.fields = {k: v.decode("utf-8", "replace") for k, v in values.items()}
                return event.filename or ""
            if isinstance(event, Field):
                name = event.name
                values.setdefault(name, bytearray())
            elif isinstance(event, File):
                name = None  # another file: skipped
            elif isinstance(event, Data):
                self._count(len(event.data))
                if name is not None:
                    values[name] += event.data
            elif isinstance(event, Epilogue):
                raise Invalid(
                    FieldError(
                        self.field,
                        N_("send the file as form field '%(field)s'"),
                        {"field": self.field},
                    )
                )

    def _finish(self) -> None:
        # Read the rest of the body (closing boundary, any later fields) so that the server
        # may keep the connection open; later fields are ignored but count against the bound.
        while not isinstance(event := self._event(), Epilogue):
            if isinstance(event, Data):
                self._count(len(event.data))

    def read(self, size: int = -1) -> bytes:
        while self._more and (size < 0 or self._buffered < size):
            event = self._event()
            if isinstance(event, Data):
                if event.data:
                    self._parts.append(bytes(event.data))
                    self._buffered += len(event.data)
                self._more = event.more_data
                if not self._more:
                    self._finish()
            else:  # the part ended without a final Data event
                self._more = False
                if not isinstance(event, Epilogue):
                    self._finish()
        if size < 0 or size >= self._buffered:
            taken, self._parts, self._buffered = self._parts, [], 0
            return taken[0] if len(taken) == 1 else b"".join(taken)
        taken, got = [], 0
        while got + len(self._parts[0]) <= size:
            part = self._parts.pop(0)
            taken.append(part)
            got += len(part)
        if got < size:  # split the part that crosses ``size``: only it is copied twice
            part, cut = self._parts[0], size - got
            taken.append(part[:cut])
            self._parts[0] = part[cut:]
        self._buffered -= size
        return b"".join(taken)
