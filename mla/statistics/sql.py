"""The few SQL expressions that SQLite and PostgreSQL spell differently: the time between two
instants in days, and a column kept from SQLite's index choice. Everything else is portable
SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float
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


class unindexed(FunctionElement[Any]):
    """The value of a column, which SQLite must not read through an index for it (``+x``).

    Grouping by a party column, SQLite would otherwise walk that party's index to get the
    groups in order, reading every request row of every authority, rather than the
    authority's own range of a covering index and a small sort. PostgreSQL: the column."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, column: Any):
        super().__init__(column)
        self.type = column.type


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = list(element.clauses)
    return f"+{compiler.process(column, **kw)}"


@compiles(unindexed)
def _unindexed_other(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = list(element.clauses)
    return compiler.process(column, **kw)
