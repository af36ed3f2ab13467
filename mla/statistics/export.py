"""The report as CSV: one table in the usual wide form (a header row, then a row per line), or
the whole report in long form, one value per row (``table,row,column,value``), preceded by
the ``report`` rows (authority, period, start, end, dimension, generated_at). The long form is
what ``GET /api/v1/statistics`` answers to ``Accept: text/csv`` and what
``mla statistics export`` writes; README.md documents it."""

from __future__ import annotations

import csv
import io
from typing import Any

from mla.statistics.report import Report, Table


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def table_csv(table: Table) -> str:
    """``table`` as CSV: the column names, then its rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    writer.writerows([[_cell(v) for v in row] for row in table.rows])
    return out.getvalue()


def report_csv(report: Report) -> str:
    """Every table of ``report`` in long form (see the module's notes). Counts only."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("table", "row", "column", "value"))
    header = {
        "authority": report.authority,
        "period": report.period.label,
        "start": report.period.start.isoformat(),
        "end": report.period.end.isoformat(),
        "dimension": report.dimension,
        "generated_at": report.generated_at.isoformat(timespec="seconds"),
    }
    for name, value in header.items():
        writer.writerow(("report", 0, name, value))
    for table in report.tables.values():
        for i, row in enumerate(table.rows, start=1):
            for column, value in zip(table.columns, row, strict=True):
                writer.writerow((table.name, i, column, _cell(value)))
    return out.getvalue()
