"""``mla authorities``, ``treaties``, ``users`` and ``tokens``: the authorities feature's
commands, closure days included."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click
from flask import current_app

from mla.authorities import service as authorities
from mla.authorities import tokens, treaties
from mla.authorities.models import AuthorityKind, Role, SessionEnd
from mla.cli.context import Group, with_app
from mla.cli.output import table
from mla.db import get_session, unit_of_work
from mla.deadlines.closures import add_closure, list_closures

# --- authorities ------------------------------------------------------------------------


@click.group(cls=Group, name="authorities")
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


@click.group(cls=Group, name="treaties")
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


@click.group(cls=Group, name="users")
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


@click.group(cls=Group, name="tokens")
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


# --- closure days ------------------------------------------------------------------------


@click.group("closures", cls=Group)
def closures_group() -> None:
    """Days an authority is closed: not business days for its deadlines."""


@closures_group.command("add")
@click.argument("code")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--reason", required=True, help="why the authority is closed that day")
@with_app
def closures_add(code: str, day: datetime, reason: str) -> None:
    """Close authority CODE on DAY (YYYY-MM-DD)."""
    with unit_of_work() as session:
        closure = add_closure(session, authorities.get_authority(session, code), day.date(), reason)
    click.echo(f"{code.upper()} closed on {closure.day.isoformat()}: {closure.reason}")


@closures_group.command("list")
@click.argument("code")
@with_app
def closures_list(code: str) -> None:
    """List the closure days of authority CODE."""
    session = get_session()
    rows = [
        (c.day.isoformat(), c.reason)
        for c in list_closures(session, authorities.get_authority(session, code))
    ]
    table(rows, ("DAY", "REASON"))


authorities_group.add_command(closures_group)
