"""``mla audit``: verify and anchor the hash-chained histories."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mla.cli.context import Group, with_app
from mla.db import get_session
from mla.errors import MLAError

# --- audit ------------------------------------------------------------------------------


@click.group(cls=Group, name="audit")
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
