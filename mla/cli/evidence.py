"""``mla keys`` (rotate, status, retire) and ``mla evidence verify`` and ``sweep``.

Thin adapters over :class:`~mla.evidence.service.EvidenceService`; the rules live there.
Domain errors become one line and exit status 1 through the root ``mla`` group.
"""

from __future__ import annotations

import sys

import click

from mla.app_services import evidence_service
from mla.cli.context import with_app
from mla.cli.output import printable, table
from mla.db import get_session, unit_of_work
from mla.evidence.leftovers import LEFTOVER_AGE

# --- keys -------------------------------------------------------------------------------


@click.group("keys")
def keys_group() -> None:
    """Key-encryption keys that wrap each evidence file's data key."""


@keys_group.command("rotate")
@click.option(
    "--batch",
    default=500,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="data keys re-wrapped per committed transaction",
)
@with_app
def keys_rotate(batch: int) -> None:
    """Add a key and re-wrap every data key under it; blobs are not touched.

    Each batch is committed, so an interrupted rotation loses nothing: run the command again
    and it finishes the rotation in progress (it adds a key only when every data key is
    already under the current one).
    """
    service = evidence_service()
    session = get_session()
    with unit_of_work(session):
        pending = service.pending_rewraps()
    if pending:
        click.echo(
            f"resuming: {pending} data key(s) not yet under the current key "
            f"{service.keyring.current_key_id}"
        )
    else:
        click.echo(f"added key {service.keyring.add_key()}; it wraps new data keys from now on")
    done = 0
    while True:
        with unit_of_work(session):
            count = service.rewrap_batch(batch)
        if not count:
            break
        done += count
        click.echo(f"re-wrapped {done} data key(s)")
    click.echo(
        f"every data key is wrapped under {service.keyring.current_key_id} "
        f"({done} re-wrapped now); retire old keys with `mla keys retire ID`"
    )


@keys_group.command("status")
@with_app
def keys_status() -> None:
    """List keys, their status and how many attachments each wraps."""
    service = evidence_service()
    usage = service.key_usage()
    keys = service.keyring.list_keys()
    rows = [
        (
            k.id,
            f"{k.status} (current)" if k.current else k.status,
            k.created.strftime("%Y-%m-%d %H:%M"),
            usage.pop(k.id, 0),
        )
        for k in keys
    ]
    # Rows naming a key the keyring does not have: evidence nobody can decrypt here.
    rows += [(key_id, "MISSING from keyring", "", count) for key_id, count in usage.items()]
    table(rows, ("KEY", "STATUS", "CREATED", "ATTACHMENTS"))
    if usage:
        sys.exit(1)


@keys_group.command("retire")
@click.argument("key_id")
@with_app
def keys_retire(key_id: str) -> None:
    """Erase key KEY_ID's material, only if no data key is wrapped under it."""
    evidence_service().retire_key(key_id)
    click.echo(f"retired key {key_id}: its material is erased")


# --- evidence ---------------------------------------------------------------------------


@click.group("evidence")
def evidence_group() -> None:
    """Encrypted evidence attachments."""


@evidence_group.command("verify")
@click.option("--all", "check_all", is_flag=True, help="every attachment")
@click.argument("ids", nargs=-1, type=int)
@with_app
def evidence_verify(check_all: bool, ids: tuple[int, ...]) -> None:
    """Decrypt attachments IDS (or --all), check every tag and the SHA-256, and record each
    check in the request's history. Exit 1 naming the first attachment that fails."""
    if check_all == bool(ids):
        raise click.UsageError("give attachment IDs or --all (not both)")
    service = evidence_service()
    session = get_session()
    checked = 0
    first_error = None
    # One commit per attachment: each check holds its request's history lock only briefly.
    items = service.verify_all(None if check_all else list(ids))
    while True:
        with unit_of_work(session, lock_late=True):  # not held while a file is decrypted
            item = next(items, None)
        if item is None:
            break
        _attachment, error = item
        checked += 1
        if error is not None:
            click.echo(f"FAILED {printable(error)}", err=True)
            first_error = first_error or error
    if first_error is not None:
        click.echo(f"error: {printable(first_error)}", err=True)
        sys.exit(1)
    click.echo(f"{checked} attachment(s) verified: every tag and digest holds")


def sweep_leftovers(older_than: float = LEFTOVER_AGE, *, dry_run: bool = False) -> None:
    """Remove the evidence store's crash leftovers and print each (``mla evidence sweep``;
    ``mla serve`` and ``mla worker`` at start)."""
    with unit_of_work() as session:
        found = evidence_service().sweep_leftovers(older_than, dry_run=dry_run)
    session.close()
    verb = "would remove" if dry_run else "removed"
    for name in found.temporaries:
        click.echo(f"{verb} partial evidence blob {name} (an upload cut short)")
    for key in found.orphans:
        click.echo(f"{verb} evidence blob {key}: no attachment references it")
    if found.temporaries or found.orphans or dry_run:
        click.echo(
            f"evidence sweep: {verb} {len(found.temporaries)} partial and "
            f"{len(found.orphans)} orphan blob(s) untouched for {older_than / 60:g} min or more"
        )


@evidence_group.command("sweep")
@click.option(
    "--older-than",
    "minutes",
    default=LEFTOVER_AGE / 60,
    show_default=True,
    type=click.FloatRange(min=0),
    help="only what was last written this many minutes ago (protects uploads in progress)",
)
@click.option("--dry-run", is_flag=True, help="list what would be removed; remove nothing")
@with_app
def evidence_sweep(minutes: float, dry_run: bool) -> None:
    """Remove what crashed uploads left in the evidence store: partial blobs and blobs that
    no attachment references. A blob an attachment references is never removed."""
    sweep_leftovers(minutes * 60, dry_run=dry_run)
