"""The ``mla`` command. Each command is one unit of work: it commits or rolls back once.

Every failure prints one line on standard error and exits non-zero: 1 for bad input or a
refused action, 2 for usage errors (click's own).
"""

from __future__ import annotations

from collections.abc import Sequence

import click
from flask import current_app

from mla.cli.audit import audit_group
from mla.cli.authorities import authorities_group, tokens_group, treaties_group, users_group
from mla.cli.context import Group, open_app, with_app
from mla.cli.documents import documents_group, signing_group
from mla.cli.evidence import evidence_group, keys_group
from mla.cli.notify import notifications_group, worker_command
from mla.cli.statistics import statistics_group
from mla.cli.workflows import workflows as workflows_group
from mla.db import get_session, unit_of_work


@click.group(cls=Group)
@click.version_option(package_name="mla")
def cli() -> None:
    """mla: mutual legal assistance and extradition requests between central authorities."""


@cli.command()
def init() -> None:
    """Create or upgrade the database to the current schema (safe to run on every start)."""
    from mla import migrate as migrations
    from mla.keyring import app_keyring
    from mla.notify.subscriptions import reseal_secrets

    with open_app(migrate=True) as app:
        engine = app.extensions["mla.db"].engine
        click.echo(f"database at revision {migrations.current_revision(engine)}: {engine.url!r}")
        with unit_of_work() as session:
            # Before MLA_SECRET_KEY may change: webhook secrets older versions sealed under it.
            resealed = reseal_secrets(session, app_keyring(app), app.config["MLA_SECRET_KEY"])
        if resealed:
            click.echo(f"{resealed} webhook secret(s) sealed again under the keyring")


for group in (
    workflows_group,
    authorities_group,
    treaties_group,
    users_group,
    tokens_group,
    audit_group,
    keys_group,
    evidence_group,
    worker_command,
    notifications_group,
    statistics_group,
    documents_group,
):
    cli.add_command(group)
keys_group.add_command(signing_group)


# --- demo and serve ---------------------------------------------------------------------


def _print_logins(logins: Sequence[tuple[str, str, str]]) -> None:
    for username, password, code in logins:
        click.echo(f"  {username} / {password} / {code}")


@cli.command()
@with_app
def demo() -> None:
    """Load realistic demo data (idempotent)."""
    from mla import demo as demo_data

    with unit_of_work() as session:
        logins = demo_data.seed(session, current_app.extensions["mla.engines"])
    click.echo(f"demo data ready: {len(logins)} users")
    _print_logins(logins)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--demo", "with_demo", is_flag=True, help="load the demo data first")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, with_demo: bool, threads: int) -> None:
    """Upgrade the database and serve mla with a production WSGI server (cheroot), with the
    worker in a background thread; Ctrl-C or SIGTERM stops both."""
    from mla import demo as demo_data
    from mla.cli.evidence import sweep_leftovers
    from mla.server import make_server, serve_until_stopped
    from mla.worker import start_background

    with open_app(migrate=True) as app:
        logins: list[tuple[str, str, str]] = []
        if with_demo:
            with unit_of_work() as session:
                logins = demo_data.seed(session, app.extensions["mla.engines"])
            get_session().close()
        sweep_leftovers()
        server = make_server(app, host, port, threads)
        server.prepare()  # listening before the line below says so
        click.echo(f"mla is at http://{host}:{port}/")
        if logins:
            click.echo("demo logins (username / password / authority):")
            _print_logins(logins)
        stop_worker = start_background(app)
        try:
            serve_until_stopped(server)
        finally:
            stop_worker.set()
        click.echo("mla stopped")


def main() -> None:
    cli(prog_name="mla")
