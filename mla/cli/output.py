r"""What every ``mla`` command prints goes through here: :func:`printable`, through which every
text that may have come from outside (names, e-mail addresses, a receiver's error answer, a
file name) reaches the terminal, and plain :func:`table`\ s of it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

import click

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
# Bidirectional controls reorder what follows them on screen ("Trojan Source").
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(value: object) -> str:
    """``value`` as text that cannot drive the terminal: control characters (C0, DEL, C1,
    such as ESC starting a colour, title or clipboard sequence), line and paragraph
    separators and bidirectional controls are written as escapes (``\\x1b``, ``\\n``,
    ``\\u202e``). Letters of every script and their combining marks stay as they are.
    None is the empty string."""
    text = "" if value is None else str(value)
    if text.isprintable():
        return text

    def escaped(char: str) -> str:
        if char in _NAMED:
            return _NAMED[char]
        if char in _BIDI or unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            code = ord(char)
            return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
        return char

    return "".join(escaped(c) for c in text)


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> None:
    """Print ``rows`` under ``header`` in aligned columns, every cell through
    :func:`printable`."""
    cells = [[printable(c) for c in header]] + [[printable(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
