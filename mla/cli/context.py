"""What every ``mla`` command runs in: an app on an up-to-date database, and a group that
turns domain errors into one line and exit status 1.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

import click
from flask import Flask
from sqlalchemy.exc import OperationalError

from mla import create_app
from mla.cli.output import printable
from mla.errors import MLAError


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
