"""What every ``mla`` command shares: domain errors as one line, an app on an up-to-date
database, plain tables, and :func:`printable`, through which every text that may have come
from outside (names, e-mail addresses, a receiver's error answer, a file name) reaches the
terminal. Kept apart from :mod:`mla.cli` so that the command modules of
each part (``mla.notify.cli``, ``mla.evidence.cli``) import it without a cycle.
"""

from __future__ import annotations

import contextlib
import functools
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import click
from flask import Flask
from sqlalchemy.exc import OperationalError

from mla import create_app
from mla.errors import MLAError

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


class Group(click.Group):
    """A click group that turns domain errors into one line and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MLAError as exc:
            click.echo(f"error: {printable(exc)}", err=True)
            ctx.exit(1)
        except OperationalError as exc:
            click.echo(f"error: database unavailable: {exc.orig}", err=True)
            ctx.exit(1)


@contextlib.contextmanager
def open_app(*, migrate: bool = False) -> Iterator[Flask]:
    """An app on an up-to-date database (upgrading it first if ``migrate``), in its context."""
    from mla import migrate as migrations

    app = create_app()
    engine = app.extensions["mla.db"].engine
    try:
        if migrate:
            migrations.upgrade(engine)
        elif migrations.current_revision(engine) != migrations.head_revision(engine):
            raise MLAError("the database is not at the current schema: run `mla init` first")
        with app.app_context():
            yield app
    finally:
        engine.dispose()


def with_app(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run the command inside an application context on an up-to-date database."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with open_app():
            return func(*args, **kwargs)

    return wrapper


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> None:
    """Print ``rows`` under ``header`` in aligned columns, every cell through
    :func:`printable`."""
    cells = [[printable(c) for c in header]] + [[printable(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
