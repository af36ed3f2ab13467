"""The few SQL expressions that SQLite and PostgreSQL spell differently: the time between two
instants in days, and an instant's local day number. Everything else is portable SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class days_between(FunctionElement[float]):
    """``end - start`` in days, fractional."""

    type = Float()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "sqlite")
def _days_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"(julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)}))"
    )


@compiles(days_between, "postgresql")
def _days_pg(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - "
        f"{compiler.process(start, **kw)})) / 86400.0)"
    )


class local_day(FunctionElement[int]):
    """The day number (days since 1970-01-01) of an instant at a fixed UTC offset given in
    seconds: the local date as an integer, for business-day arithmetic."""

    type = Integer()
    inherit_cache = True
    name = "local_day"


@compiles(local_day, "sqlite")
def _day_sqlite(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    moment, offset = list(element.clauses)
    # Instants after 1970 only, so truncation is the floor.
    return (
        f"CAST((julianday({compiler.process(moment, **kw)}) - 2440587.5) * 86400.0 + "
        f"{compiler.process(offset, **kw)} AS INTEGER) / 86400"
    )


@compiles(local_day, "postgresql")
def _day_pg(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    moment, offset = list(element.clauses)
    return (
        f"CAST(FLOOR((EXTRACT(EPOCH FROM {compiler.process(moment, **kw)}) + "
        f"{compiler.process(offset, **kw)}) / 86400.0) AS INTEGER)"
    )
