"""The ``mla`` command. Each command is one unit of work: it commits or rolls back once.

Every failure prints one line on standard error and exits non-zero: 1 for bad input or a
refused action, 2 for usage errors (click's own).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from flask import current_app

from mla.api import tokens
from mla.authorities import service as authorities
from mla.authorities import treaties
from mla.authorities.models import AuthorityKind, Role, SessionEnd
from mla.commandline import Group, open_app, table, with_app
from mla.db import get_session, unit_of_work
from mla.documents.cli import documents_group, signing_group
from mla.errors import MLAError
from mla.evidence.cli import evidence_group, keys_group
from mla.notify.cli import closures_group, notifications_group, worker_command
from mla.workflow.cli import workflows as workflows_group


@click.group(cls=Group)
@click.version_option(package_name="mla")
def cli() -> None:
    """mla: mutual legal assistance and extradition requests between central authorities."""


@cli.command()
def init() -> None:
    """Create or upgrade the database to the current schema (safe to run on every start)."""
    from mla import migrate as migrations
    from mla.evidence.keyring import app_keyring
    from mla.notify.subscriptions import reseal_secrets

    with open_app(migrate=True) as app:
        engine = app.extensions["mla.db"].engine
        click.echo(f"database at revision {migrations.current_revision(engine)}: {engine.url!r}")
        with unit_of_work() as session:
            # Before MLA_SECRET_KEY may change: webhook secrets older versions sealed under it.
            resealed = reseal_secrets(session, app_keyring(app), app.config["MLA_SECRET_KEY"])
        if resealed:
            click.echo(f"{resealed} webhook secret(s) sealed again under the keyring")


cli.add_command(workflows_group)
cli.add_command(keys_group)
cli.add_command(evidence_group)


# --- authorities ------------------------------------------------------------------------


@cli.group(cls=Group, name="authorities")
def authorities_group() -> None:
    """The directory of central and executing authorities."""


@authorities_group.command("add")
@click.argument("code")
@click.option("--country", required=True, help="ISO 3166-1 alpha-2 code, e.g. AR")
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice([k.value for k in AuthorityKind]), default="central")
@click.option("--parent", "parent_code", help="central authority of an executing authority")
@click.option("--languages", default="en", help="accepted languages, e.g. es,en")
@click.option(
    "--timezone", default="UTC", help="IANA time zone, e.g. America/Argentina/Buenos_Aires"
)
@click.option("--external", is_flag=True, help="not on mla: its steps are recorded for it")
@with_app
def authorities_add(code: str, **opts: Any) -> None:
    """Add an authority to the directory."""
    with unit_of_work() as session:
        authority = authorities.add_authority(
            session,
            code,
            country=opts["country"],
            name=opts["name"],
            kind=AuthorityKind(opts["kind"]),
            parent_code=opts["parent_code"],
            languages=[lang.strip() for lang in opts["languages"].split(",") if lang.strip()],
            timezone=opts["timezone"],
            external=opts["external"],
        )
    click.echo(f"added authority {authority.code}: {authority.name}")


@authorities_group.command("list")
@with_app
def authorities_list() -> None:
    """List the directory."""
    rows = [
        (a.code, a.country, a.kind.value, a.parent.code if a.parent else "", a.name)
        for a in authorities.list_authorities(get_session())
    ]
    table(rows, ("CODE", "STATE", "KIND", "PARENT", "NAME"))


@authorities_group.command("target")
@click.argument("code")
@click.argument("workflow")
@click.argument("name")
@click.argument("days", required=False, type=int)
@with_app
def authorities_target(code: str, workflow: str, name: str, days: int | None) -> None:
    """Set the authority CODE's own target NAME of WORKFLOW to DAYS (e.g. MEX-FGR mla
    decide_days 20) for its deadlines from now on; without DAYS, drop the override."""
    engines = current_app.extensions["mla.engines"]
    with unit_of_work() as session:
        authority = authorities.get_authority(session, code)
        own = treaties.set_target(
            session, authority, engines.workflows.latest(workflow), name, days
        )
    shown = ", ".join(f"{k}={v}" for k, v in sorted(own.items())) or "none"
    click.echo(f"{authority.code} targets for {workflow}: {shown}")


# --- treaties ---------------------------------------------------------------------------


@cli.group(cls=Group, name="treaties")
def treaties_group() -> None:
    """Bilateral treaties and their deadline figures."""


@treaties_group.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--states", required=True, help="the two parties, ISO 3166-1 alpha-2: AR,MX")
@click.option(
    "--figure", "figures", multiple=True, help="a deadline figure NAME=DAYS, e.g. decide_days=18"
)
@click.option("--reference", help="where its text is published")
@with_app
def treaties_add(
    code: str, name: str, states: str, figures: tuple[str, ...], reference: str | None
) -> None:
    """Record a bilateral treaty; requests on the bilateral basis name it by CODE."""
    pair = [c.strip() for c in states.split(",")]
    parsed: dict[str, Any] = {}
    for item in figures:
        key, _, value = item.partition("=")
        parsed[key.strip()] = int(value) if value.strip().isdigit() else value
    with unit_of_work() as session:
        treaty = treaties.add_treaty(
            session,
            code,
            name=name,
            states=(pair[0], pair[1]) if len(pair) == 2 else (states, states),
            figures=parsed,
            reference=reference,
        )
    click.echo(f"added treaty {treaty.code}: {treaty.name}")


@treaties_group.command("list")
@with_app
def treaties_list() -> None:
    """List the treaties with their figures."""
    rows = [
        (
            t.code,
            f"{t.state_a}-{t.state_b}",
            " ".join(f"{k}={v}" for k, v in sorted(t.figures.items())),
            t.name,
        )
        for t in treaties.list_treaties(get_session())
    ]
    table(rows, ("CODE", "STATES", "FIGURES", "NAME"))


# --- users ------------------------------------------------------------------------------


@cli.group(cls=Group, name="users")
def users_group() -> None:
    """People who sign in to the web UI."""


@users_group.command("add")
@click.argument("username")
@click.option("--authority", "authority_code", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--email", required=True)
@click.option("--language", default="en", type=click.Choice(authorities.LANGUAGES))
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@with_app
def users_add(username: str, authority_code: str, role: str, email: str, **opts: Any) -> None:
    """Add a user to an authority."""
    if opts["password_stdin"]:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with unit_of_work() as session:
        user = authorities.add_user(
            session,
            username,
            authority_code=authority_code,
            role=role,
            email=email,
            password=password,
            language=opts["language"],
        )
    click.echo(f"added user {user.username} ({user.role.value}) to {user.authority.code}")


@users_group.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@with_app
def users_set_password(username: str, password_stdin: bool) -> None:
    """Reset a user's password; every session of theirs ends."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    with unit_of_work() as session:
        user = authorities.get_user(session, username)
        authorities.set_password(session, user, password, SessionEnd.PASSWORD_RESET)
    click.echo(f"password of {user.username} reset; their sessions have ended")


@users_group.command("list")
@with_app
def users_list() -> None:
    """List users."""
    rows = [
        (u.username, u.authority.code, u.role.value, u.email, "yes" if u.active else "no")
        for u in authorities.list_users(get_session())
    ]
    table(rows, ("USERNAME", "AUTHORITY", "ROLE", "EMAIL", "ACTIVE"))


# --- API tokens -------------------------------------------------------------------------


@cli.group(cls=Group, name="tokens")
def tokens_group() -> None:
    """Bearer tokens for the status API."""


@tokens_group.command("create")
@click.argument("code")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=tokens.DEFAULT_VALIDITY_DAYS,
    show_default=True,
    help="expire after this many days",
)
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.CLERK.value,
    show_default=True,
    help="role the system acts with; supervisor lets it sign (a deliberate delegation)",
)
@with_app
def tokens_create(code: str, days: int, role: str) -> None:
    """Issue a token for authority CODE. It is shown once; only its digest is kept."""
    from datetime import timedelta

    with unit_of_work() as session:
        authority = authorities.get_authority(session, code)
        row, token = tokens.create(session, authority, valid_for=timedelta(days=days), role=role)
    click.echo(
        f"token {row.id} for {authority.code} as {row.role}, expires {row.expires_at:%Y-%m-%d} "
        f"(shown once, store it now): {token}"
    )


@tokens_group.command("list")
@with_app
def tokens_list() -> None:
    """List tokens (never their secrets)."""
    rows = [
        (
            t.id,
            t.authority.code,
            t.prefix + "…",
            t.created_at.strftime("%Y-%m-%d"),
            t.expires_at.strftime("%Y-%m-%d") if t.expires_at else "never",
            "revoked" if t.revoked_at else "active",
            t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never",
        )
        for t in tokens.list_tokens(get_session())
    ]
    table(rows, ("ID", "AUTHORITY", "TOKEN", "CREATED", "EXPIRES", "STATUS", "LAST USED"))


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
@with_app
def tokens_revoke(token_id: int) -> None:
    """Revoke token ID at once."""
    with unit_of_work() as session:
        row = tokens.revoke(session, token_id)
    click.echo(f"revoked token {row.id} of {row.authority.code}")


# --- audit ------------------------------------------------------------------------------


@cli.group(cls=Group, name="audit")
def audit_group() -> None:
    """The hash-chained history of requests."""


@audit_group.command("verify")
@click.option(
    "--anchor",
    "anchors",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="an anchor file (mla audit anchor): histories must still hold at it",
)
@with_app
def audit_verify(anchors: tuple[str, ...]) -> None:
    """Recompute every request's hash chain, replay each history to check the request row,
    and check each history against each anchor given; name the first broken link or the
    first part of a row its history does not give, and exit 1."""
    from mla.audit import anchor
    from mla.audit.chain import verify_all

    session = get_session()
    if session.get_bind().dialect.name == "postgresql":
        # One snapshot for the whole check: a change committed while it runs must not read
        # as a request row ahead of (or behind) its history. SQLite's read is one already.
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    documents = []
    for path in anchors:
        try:
            documents.append((path, anchor.load(Path(path).read_text("utf-8"))))
        except (OSError, UnicodeDecodeError) as exc:
            raise MLAError(f"cannot read the anchor {path}: {exc}") from None
    checked = partial = 0
    for result in verify_all(session):
        if result.broken is not None:
            raise MLAError(f"broken history: {result.broken}")
        checked += 1
        partial += result.partial
    for path, document in documents:
        for broken in anchor.check(session, document):
            raise MLAError(f"broken history: {broken} ({path})")
    click.echo(
        f"{checked} request histories verified, no broken link; each request row is what "
        "its history says"
    )
    if partial:
        click.echo(
            f"({partial} of them checked in part: their histories began before mla recorded "
            "the values each change left, so only what those events tell was compared)"
        )
    for path, document in documents:
        click.echo(
            f"{len(document['heads'])} still hold at the anchor {path} of "
            f"{document['taken_at']} (digest {document['digest']})"
        )


@audit_group.command("anchor")
@click.argument("output", type=click.Path(dir_okay=False))
@with_app
def audit_anchor(output: str) -> None:
    """Write every request's chain head to OUTPUT (a new file), to keep outside the database;
    print its digest, to record somewhere else again."""
    from mla.audit import anchor
    from mla.db import utcnow

    document = anchor.take(get_session(), utcnow())
    try:
        with open(output, "x", encoding="utf-8") as f:
            json.dump(document, f, indent=1, ensure_ascii=False)
            f.write("\n")
    except FileExistsError:
        raise MLAError(f"{output} exists: an anchor is never overwritten") from None
    except OSError as exc:
        raise MLAError(f"cannot write {output}: {exc.strerror}") from None
    click.echo(
        f"anchored {len(document['heads'])} request histories in {output}; "
        f"digest {document['digest']}"
    )


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
    from mla.evidence.cli import sweep_leftovers
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


cli.add_command(worker_command)
cli.add_command(notifications_group)
authorities_group.add_command(closures_group)
keys_group.add_command(signing_group)
cli.add_command(documents_group)


def main() -> None:
    cli(prog_name="mla")
