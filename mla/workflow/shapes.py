"""The shape checks every part of a workflow definition is built with: mappings, keys, lists,
names, flags, labels in the UI's languages, and the one duration grammar. Each check reports a
:class:`DefinitionError` at the file and line and goes on, so that one run names every fault.

:mod:`mla.workflow.loader` walks a definition with them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from mla.workflow.model import (
    LANGUAGES,
    UNITS,
    Choice,
    Duration,
)
from mla.workflow.yamlsrc import LineList, LineMap

T = TypeVar("T")


@dataclass(frozen=True)
class DefinitionError:
    """A rule a definition breaks, at ``file``:``line``. ``warning``: reported, not fatal (a
    liveness finding in a superseded version, kept only for the requests opened under it)."""

    file: str
    line: int
    reason: str
    warning: bool = False

    def __str__(self) -> str:
        severity = "warning: " if self.warning else ""
        return f"{self.file}:{self.line}: {severity}{self.reason}"


_DURATION = re.compile(r"^([+-]?\d+)\s+(?:(calendar|business)\s+days?|(hours?)|(months?))$")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
CODE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
CHOICE_KEYS = {"code", "labels"}


class ShapeChecker:
    """Shape checks over one definition file, collecting its errors."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[DefinitionError] = []

    def err(self, line: int, reason: str) -> None:
        self.errors.append(DefinitionError(self.file, line, reason))

    def mapping(self, value: Any, line: int, where: str) -> LineMap | None:
        if not isinstance(value, LineMap):
            self.err(line, f"{where} must be a mapping")
            return None
        for key, dup_line in value.duplicates:
            self.err(dup_line, f"duplicate key {key!r} in {where}")
        return value

    def keys(self, m: LineMap, allowed: set[str], required: Iterable[str], where: str) -> None:
        for key in m:
            if key not in allowed:
                expected = ", ".join(sorted(allowed))
                self.err(m.line_of(key), f"unknown key {key!r} in {where} (expected: {expected})")
        for key in required:
            if key not in m:
                self.err(m.line, f"{where} lacks {key!r}")

    def seq(self, m: LineMap, key: str, where: str) -> list[Any]:
        value = m.get(key)
        if value is None:
            return []
        if not isinstance(value, LineList):
            self.err(m.line_of(key), f"{key!r} of {where} must be a list")
            return []
        return value

    def items(
        self, m: LineMap, key: str, where: str, build: Callable[[LineMap, str], T | None]
    ) -> list[T]:
        """Build each mapping in the list ``m[key]``, reporting duplicate names."""
        out: list[T] = []
        seen: dict[str, int] = {}
        for item in self.seq(m, key, where):
            line = item.line if isinstance(item, LineMap) else m.line_of(key)
            item_map = self.mapping(item, line, f"an entry of {key!r} in {where}")
            if item_map is None:
                continue
            built = build(item_map, where)
            if built is None:
                continue
            name = getattr(built, "name", None) or getattr(built, "code", None)
            if isinstance(name, str):
                if name in seen:
                    self.err(item_map.line, f"duplicate name {name!r} in {key!r} of {where}")
                seen[name] = item_map.line
            out.append(built)
        return out

    def name(self, m: LineMap, key: str, where: str, pattern: re.Pattern[str] = NAME) -> str:
        value = m.get(key)
        if not isinstance(value, str) or not pattern.match(value):
            self.err(m.line_of(key), f"{key!r} of {where} must match {pattern.pattern}")
            return str(value)
        return value

    def enum(self, m: LineMap, key: str, allowed: tuple[str, ...], where: str, default: Any) -> Any:
        value = m.get(key, default)
        if value is not default and value not in allowed:
            self.err(m.line_of(key), f"{key!r} of {where} must be one of {', '.join(allowed)}")
        return value

    def flag(self, m: LineMap, key: str, where: str) -> bool:
        value = m.get(key, False)
        if not isinstance(value, bool):
            self.err(m.line_of(key), f"{key!r} of {where} must be true or false")
            return False
        return value

    def names(
        self, m: LineMap, key: str, where: str, allowed: tuple[str, ...] = ()
    ) -> tuple[str, ...]:
        out = []
        for v in self.seq(m, key, where):
            if not isinstance(v, str) or (allowed and v not in allowed):
                expected = f"one of {', '.join(allowed)}" if allowed else "names"
                self.err(m.line_of(key), f"{key!r} of {where} must list {expected}, got {v!r}")
            else:
                out.append(v)
        if len(set(out)) != len(out):
            self.err(m.line_of(key), f"duplicate names in {key!r} of {where}")
        return tuple(out)

    def labels(self, m: LineMap, where: str, key: str = "labels") -> dict[str, str]:
        raw = self.mapping(m.get(key), m.line_of(key), f"{key!r} of {where}")
        if raw is None:
            return {"en": str(m.get("name") or m.get("code") or m.get("event") or "?")}
        for lang, text in raw.items():
            if lang not in LANGUAGES:
                self.err(raw.line_of(lang), f"unknown language {lang!r} in {key!r} of {where}")
            elif not isinstance(text, str) or not text.strip():
                self.err(raw.line_of(lang), f"{key!r} of {where} must give text for {lang!r}")
        if "en" not in raw:
            self.err(raw.line, f"{key!r} of {where} lacks 'en'")
        return {k: str(v) for k, v in raw.items() if k in LANGUAGES}

    def duration(self, value: Any, line: int, where: str, *, signed: bool) -> Duration | None:
        if isinstance(value, LineMap):
            self.keys(value, {"figure", "unit"}, ("figure", "unit"), where)
            figure, unit = value.get("figure"), value.get("unit")
            if not isinstance(figure, str) or unit not in UNITS:
                self.err(line, f"{where} must name a figure and a unit ({', '.join(UNITS)})")
                return None
            return Duration(None, unit, figure)
        if value == 0 and not isinstance(value, bool):
            return Duration(0, "calendar_days")
        match = _DURATION.match(value.strip()) if isinstance(value, str) else None
        if not match:
            example = (
                "'-2 business days', 0, '+5 business days'" if signed else "'10 business days'"
            )
            self.err(line, f"{where} must be a duration such as {example}, got {value!r}")
            return None
        amount = int(match.group(1))
        if match.group(3):
            unit = "hours"
        elif match.group(4):
            unit = "months"
        else:
            unit = f"{match.group(2)}_days"
        if amount < 0 and not signed:
            self.err(line, f"{where} must not be negative")
        return Duration(amount, unit)  # type: ignore[arg-type]

    def past(self, m: LineMap, kind: str, where: str) -> bool:
        """``past: true``: only a date (or date and time) can be required to lie in the past."""
        past = self.flag(m, "past", where)
        if past and kind not in ("date", "datetime"):
            self.err(m.line_of("past"), f"'past' of {where} applies only to a date")
        return past

    def choices(self, m: LineMap, key: str, where: str) -> tuple[Choice, ...]:
        def build(c: LineMap, w: str) -> Choice:
            self.keys(c, CHOICE_KEYS, ("code", "labels"), f"a choice of {w}")
            return Choice(self.name(c, "code", w, CODE), self.labels(c, f"choice {c.get('code')}"))

        return tuple(self.items(m, key, where, build))
