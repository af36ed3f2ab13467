"""What every ``mla`` command shares: domain errors as one line, an app on an up-to-date
database, and plain tables. Kept apart from :mod:`mla.cli` so that the command modules of
each part (``mla.notify.cli``, ``mla.evidence.cli``) import it without a cycle.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import click
from flask import Flask
from sqlalchemy.exc import OperationalError

from mla import create_app
from mla.errors import MLAError


class Group(click.Group):
    """A click group that turns domain errors into one line and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MLAError as exc:
            click.echo(f"error: {exc}", err=True)
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
    cells = [[str(c) for c in header]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
