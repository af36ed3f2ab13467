"""``mla statistics export``: the hemispheric report of one authority, counts only."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mla.authorities.service import get_authority
from mla.cli.context import Group, with_app
from mla.db import get_session, utcnow
from mla.statistics import export, service


@click.group(cls=Group, name="statistics")
def statistics_group() -> None:
    """Statistics on requests (Plan of Action II.1h)."""


@statistics_group.command("export")
@click.option("--authority", "code", required=True, help="the authority's code")
@click.option("--period", required=True, help="2026, 2026-Q2, 2026-03 or 2026-01-01..2026-06-30")
@click.option(
    "--dimension", default="counterpart", show_default=True, help="the breakdown of the tables"
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="file (default: stdout)"
)
@with_app
def statistics_export(code: str, period: str, dimension: str, out: Path | None) -> None:
    """Write the authority's statistics over the period as CSV in long form
    (table,row,column,value; see README): counts and durations only, no reference, name or
    fact, fit to send to the OAS or publish."""
    session = get_session()
    report = service.statistics(
        session,
        get_authority(session, code),
        service.parse_period(period),
        service.check_dimension(dimension),
        utcnow(),
    )
    text = export.report_csv(report)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
