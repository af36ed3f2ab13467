"""``mla workflows``: check, list and draw workflow definitions; migrate open requests.

The lead attaches :data:`workflows` to the ``mla`` command group. Exit status 1 means some
definition is invalid (or the workflow asked for does not exist), or a migration was refused.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from mla.cli.context import Group, with_app
from mla.config import SETTINGS
from mla.errors import NotFound
from mla.workflow.definition import WorkflowInvalid, check_all, definition_files, load_all
from mla.workflow.diagram import mermaid


def _directory() -> Path:
    return Path(os.environ.get("MLA_WORKFLOWS_DIR") or SETTINGS["MLA_WORKFLOWS_DIR"][0])


@click.group("workflows", cls=Group)
def workflows() -> None:
    """Check, list and draw workflow definitions; move open requests to a new version."""


@workflows.command("check")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
def check_command(files: tuple[Path, ...]) -> None:
    """Validate FILES (default: every definition in MLA_WORKFLOWS_DIR).

    Dead ends in a superseded version (a newer one of the same workflow is among FILES) are
    warnings; anywhere else they are errors."""
    paths = list(files) or definition_files(_directory())
    _, errors = check_all(paths)
    for error in errors:
        click.echo(str(error))
    if any(not e.warning for e in errors):
        raise SystemExit(1)
    warned = f" ({len(errors)} warnings)" if errors else ""
    click.echo(f"{len(paths)} workflow definitions OK{warned}")


@workflows.command("list")
def list_command() -> None:
    """Name, version, number of states and file of each definition."""
    try:
        loaded = load_all(_directory())
    except WorkflowInvalid as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    for wf in loaded:
        click.echo(f"{wf.name}\t{wf.version}\t{len(wf.states)} states\t{wf.file}")


@workflows.command("diagram")
@click.argument("name")
@click.option("--version", "version", type=int, default=None, help="default: the latest")
@click.option("--current", default=None, help="state to highlight")
def diagram_command(name: str, version: int | None, current: str | None) -> None:
    """Print a Mermaid diagram of workflow NAME."""
    try:
        loaded = load_all(_directory())
        wf = loaded.latest(name) if version is None else loaded.get(name, version)
    except (WorkflowInvalid, NotFound) as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    click.echo(mermaid(wf, current), nl=False)


@workflows.command("migrate")
@click.argument("name")
@click.option("--from", "old", type=click.IntRange(min=1), required=True, help="version now")
@click.option("--to", "new", type=click.IntRange(min=1), required=True, help="version to move to")
@click.option(
    "--map",
    "map_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="state map (default: migrations/NAME.vFROM-vTO.yaml beside the definitions, if any)",
)
@click.option("--apply", "apply_", is_flag=True, help="make the moves (default: print the plan)")
@with_app
def migrate_command(name: str, old: int, new: int, map_path: Path | None, apply_: bool) -> None:
    """Move the open requests of workflow NAME from version --from to --to.

    States map to the state of the same name unless the state map says otherwise; an
    unmapped state stops the command. Without --apply, prints the plan and changes nothing.
    """
    from flask import current_app

    from mla.db import get_session, unit_of_work, utcnow
    from mla.requests import migration

    engines = current_app.extensions["mla.engines"]
    default = migration.map_file(_directory(), name, old, new)
    path = map_path or (default if default.is_file() else None)
    states = migration.read_map(path) if path is not None else {}
    session = get_session()
    moves = migration.plan(session, engines, name, old, new, states)
    for move in moves:
        same = "" if move.source == move.dest else f" -> {move.dest}"
        click.echo(f"{move.reference}\t{move.source}{same}")
    if not apply_:
        click.echo(
            f"{len(moves)} open requests of {name} would move from version {old} to {new};"
            " nothing changed (run again with --apply)"
        )
        return
    with unit_of_work(session):
        migration.apply(session, engines, name, old, new, moves, utcnow())
    click.echo(f"moved {len(moves)} open requests of {name} from version {old} to {new}")
