"""``mla workflows``: check, list and draw workflow definitions.

The lead attaches :data:`workflows` to the ``mla`` command group. Exit status 1 means some
definition is invalid (or the workflow asked for does not exist).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from mla.config import SETTINGS
from mla.errors import NotFound
from mla.workflow.definition import WorkflowInvalid, check_all, definition_files, load_all
from mla.workflow.diagram import mermaid


def _directory() -> Path:
    return Path(os.environ.get("MLA_WORKFLOWS_DIR") or SETTINGS["MLA_WORKFLOWS_DIR"][0])


@click.group("workflows")
def workflows() -> None:
    """Check, list and draw workflow definitions."""


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
