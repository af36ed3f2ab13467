"""What a statistics report is: its period, dimensions and tables, and the parsing of the
period and dimension a caller asks for. No SQL here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from mla.errors import N_, FieldError, Invalid
from mla.statistics.runs import STAGES, WHOLE

DIMENSIONS = ("counterpart", "kind", "legal_basis", "urgency", "offence_category", "outcome")
DIRECTIONS = ("incoming", "outgoing")
# The stages of the turnaround table (mla.statistics.runs says which deadline measures each).
STAGE_NAMES = (*STAGES, WHOLE)
# Age bands of open requests, in days since transmission (or creation): (label, from, to).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 31),
    ("31-90", 31, 91),
    ("91-180", 91, 181),
    ("181-365", 181, 366),
    ("366+", 366, None),
)


@dataclass(frozen=True)
class Period:
    """Local dates ``start`` (included) to ``end`` (excluded) on the authority's calendar."""

    label: str
    start: date
    end: date

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


@dataclass(frozen=True)
class Table:
    """One table of the report: column names and rows of plain values (str, int, float)."""

    name: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class Report:
    authority: str
    period: Period
    dimension: str
    generated_at: datetime
    tables: dict[str, Table]


def parse_period(text: str | None) -> Period:
    """A period from ``2026``, ``2026-Q2``, ``2026-03`` or ``2026-01-01..2026-06-30``.

    Raises Invalid naming ``period`` for anything else (or an empty range)."""
    text = (text or "").strip()
    try:
        if m := re.fullmatch(r"(\d{4})", text):
            year = int(m[1])
            return Period(text, date(year, 1, 1), date(year + 1, 1, 1))
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", text, re.IGNORECASE):
            year, quarter = int(m[1]), int(m[2])
            start = date(year, 3 * quarter - 2, 1)
            return Period(text.upper(), start, add_months(start, 3))
        if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
            start = date(int(m[1]), int(m[2]), 1)
            return Period(text, start, add_months(start, 1))
        if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", text):
            start, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            if last >= start:
                return Period(text, start, last + timedelta(days=1))
    except ValueError:
        pass
    raise Invalid(
        FieldError(
            "period",
            N_(
                "give a year (2026), a quarter (2026-Q2), a month (2026-03) or a range "
                "(2026-01-01..2026-06-30)"
            ),
        )
    )


def add_months(d: date, months: int) -> date:
    index = d.month - 1 + months
    return date(d.year + index // 12, index % 12 + 1, 1)


def check_dimension(dimension: str | None) -> str:
    """``dimension`` if it is one of DIMENSIONS (default ``counterpart``); Invalid naming
    ``dimension`` otherwise."""
    if not dimension:
        return "counterpart"
    if dimension not in DIMENSIONS:
        raise Invalid(
            FieldError(
                "dimension",
                N_("must be one of %(DIMENSIONS)s"),
                {"DIMENSIONS": ", ".join(DIMENSIONS)},
            )
        )
    return dimension
