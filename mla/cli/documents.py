"""``mla keys signing`` (create, import, list) and ``mla documents verify``.

Thin adapters over :mod:`mla.documents.signing`; domain errors become one line and exit
status 1 through the root ``mla`` group.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app

from mla import config
from mla.app_services import signing_keys
from mla.authorities.service import get_authority
from mla.cli.context import with_app
from mla.cli.output import printable, table
from mla.db import unit_of_work
from mla.documents.signing import CertificateInfo, SigningKeys, verify
from mla.errors import N_, ConfigError, Invalid, Message


def _show(info: CertificateInfo) -> None:
    kind = "self-issued" if info.self_issued else f"issued by {info.issuer}"
    click.echo(f"{info.code}: {printable(info.subject)} ({kind})")
    click.echo(f"  valid until {info.not_after:%Y-%m-%d}; SHA-256 {info.sha256}")


@click.group("signing")
def signing_group() -> None:
    """Authorities' keys and certificates that sign their formal documents (PAdES)."""


@signing_group.command("create")
@click.argument("code")
@click.option("--replace", is_flag=True, help="replace the authority's key if it has one")
@with_app
def signing_create(code: str, replace: bool) -> None:
    """Create a signing key and a self-issued certificate for authority CODE."""
    with unit_of_work() as session:
        authority = get_authority(session, code)
    keys = signing_keys(current_app)
    _show(keys.create(authority.code, authority.name, authority.country, replace=replace))


@signing_group.command("import")
@click.argument("code")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--password-stdin", is_flag=True, help="read the PKCS#12 password from standard input"
)
@click.option("--replace", is_flag=True, help="replace the authority's key if it has one")
@with_app
def signing_import(code: str, file: Path, password_stdin: bool, replace: bool) -> None:
    """Keep authority CODE's key and certificate from FILE, a PKCS#12 (.p12, .pfx) from the
    state's PKI. The password is asked for (or read from standard input)."""
    with unit_of_work() as session:
        authority = get_authority(session, code)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("PKCS#12 password", hide_input=True, default="", show_default=False)
    data = file.read_bytes()
    keys = signing_keys(current_app)
    _show(keys.import_p12(authority.code, data, password.encode() or None, replace=replace))


@signing_group.command("list")
@with_app
def signing_list() -> None:
    """Every authority's signing certificate."""
    rows = [
        (i.code, i.subject, "yes" if i.self_issued else "no", f"{i.not_after:%Y-%m-%d}")
        for i in signing_keys(current_app).infos()
    ]
    table(rows, ["CODE", "SUBJECT", "SELF-ISSUED", "VALID UNTIL"])


@click.group("documents")
def documents_group() -> None:
    """Formal documents (letters of request, refusals, certificates of custody)."""


@documents_group.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def documents_verify(file: Path) -> None:
    """Check FILE's PAdES signature: who signed, when, and whether a byte changed since.

    Exits 1 when the signature does not hold or the file changed. The certificates held in
    this installation's signing folder count as trusted."""
    try:
        trust = SigningKeys(config.load()["MLA_SIGNING_DIR"]).certificates()
    except ConfigError:
        trust = []  # no installation here: the signature can still be checked
    verdict = verify(file.read_bytes(), trust)
    if verdict.signer:
        click.echo(f"signed by: {printable(verdict.signer)}")
    if verdict.signed_at is not None:
        click.echo(f"signed at: {verdict.signed_at.isoformat()}")
    if verdict.intact and verdict.valid:
        click.echo("intact: yes, not a byte changed since it was signed")
        held = (
            "yes, its certificate is held here" if verdict.trusted else "not by this installation"
        )
        click.echo(f"trusted: {held}")
        return
    raise Invalid(
        Message(
            N_("%(printable)s is not intact: %(printable2)s"),
            {"printable": printable(file.name), "printable2": printable(verdict.problem)},
        )
    )
