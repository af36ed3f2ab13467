"""Build :class:`~mla.workflow.model.Workflow` objects from YAML, collecting every error.

The builder checks shape (keys, types, vocabularies); :mod:`mla.workflow.validate` then checks
the graph and cross-references. Both report :class:`DefinitionError` with file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from mla.workflow.model import (
    FIELD_TYPES,
    INPUT_TYPES,
    LANGUAGES,
    PARTIES,
    RECIPIENTS,
    ROLES,
    STATE_KINDS,
    UNITS,
    Choice,
    Deadline,
    Duration,
    EscalationStep,
    Field,
    Input,
    LegalBasis,
    State,
    Transition,
    Workflow,
)
from mla.workflow.yamlsrc import LineList, LineMap, SyntaxProblem, parse

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
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")

TOP_KEYS = {"name", "version", "labels", "fields", "legal_bases", "states", "initial"}
TOP_KEYS |= {"transitions", "targets"}
FIELD_KEYS = {"name", "type", "required", "choices", "labels", "help", "required_in"}
FIELD_KEYS |= {"required_unless", "bases", "past"}
BASIS_KEYS = {"code", "labels", "refusal_grounds", "figures"}
STATE_KEYS = {"name", "owner", "final", "initial", "kind", "labels", "deadlines", "clock_stops"}
DEADLINE_KEYS = {"name", "within", "anchor", "labels", "escalation", "runs_through"}
DEADLINE_KEYS |= {"extension", "when", "party"}
STEP_KEYS = {"at", "to"}
TRANSITION_KEYS = {"event", "sources", "dest", "stay", "by", "roles", "guards", "inputs"}
TRANSITION_KEYS |= {"labels", "extends", "after_closure"}
INPUT_KEYS = {"name", "type", "required", "choices", "labels", "to_field", "past"}
CHOICE_KEYS = {"code", "labels"}


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[DefinitionError] = []

    def err(self, line: int, reason: str) -> None:
        self.errors.append(DefinitionError(self.file, line, reason))

    # -- generic shape checks ---------------------------------------------------------------

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

    def name(self, m: LineMap, key: str, where: str, pattern: re.Pattern[str] = _NAME) -> str:
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
            return Choice(self.name(c, "code", w, _CODE), self.labels(c, f"choice {c.get('code')}"))

        return tuple(self.items(m, key, where, build))

    # -- definition parts ---------------------------------------------------------------------

    def field(self, m: LineMap, _: str) -> Field:
        where = f"field {m.get('name')!r}"
        self.keys(m, FIELD_KEYS, ("name", "type", "labels"), where)
        ftype = self.enum(m, "type", FIELD_TYPES, where, "text")
        choices = self.choices(m, "choices", where)
        if ftype in ("choice", "multichoice") and not choices:
            self.err(m.line, f"{where} of type {ftype} needs choices")
        unless: dict[str, tuple[str, ...]] = {}
        if "required_unless" in m:
            raw = self.mapping(m["required_unless"], m.line_of("required_unless"), where)
            for other in raw or {}:
                unless[other] = self.names(raw, other, f"'required_unless' of {where}")  # type: ignore[arg-type]
        return Field(
            name=self.name(m, "name", where),
            type=ftype,
            required=self.flag(m, "required", where),
            labels=self.labels(m, where),
            help=self.labels(m, where, "help") if "help" in m else {},
            choices=choices,
            required_in=self.names(m, "required_in", where),
            required_unless=unless,
            bases=self.names(m, "bases", where),
            past=self.past(m, ftype, where),
            line=m.line,
        )

    def basis(self, m: LineMap, _: str) -> LegalBasis:
        where = f"legal basis {m.get('code')!r}"
        self.keys(m, BASIS_KEYS, ("code", "labels", "refusal_grounds"), where)
        figures: dict[str, int] = {}
        raw: dict[str, Any] = (
            self.mapping(m.get("figures", LineMap()), m.line_of("figures"), where) or {}
        )
        for name, value in raw.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                self.err(m.line_of("figures"), f"figure {name!r} of {where} must be a whole number")
            else:
                figures[name] = value
        return LegalBasis(
            code=self.name(m, "code", where, _CODE),
            labels=self.labels(m, where),
            refusal_grounds=self.choices(m, "refusal_grounds", where),
            figures=figures,
            line=m.line,
        )

    def deadline(self, m: LineMap, where: str) -> Deadline | None:
        where = f"deadline {m.get('name')!r} of {where}"
        self.keys(m, DEADLINE_KEYS, ("name", "within", "labels"), where)
        within = self.duration(
            m.get("within"), m.line_of("within"), f"'within' of {where}", signed=False
        )
        steps = []
        for level, step in enumerate(self.seq(m, "escalation", where), start=1):
            line = step.line if isinstance(step, LineMap) else m.line_of("escalation")
            step_map = self.mapping(step, line, f"an escalation step of {where}")
            if step_map is None:
                continue
            self.keys(step_map, STEP_KEYS, STEP_KEYS, f"an escalation step of {where}")
            at = self.duration(step_map.get("at"), step_map.line_of("at"), "'at'", signed=True)
            to = self.names(step_map, "to", f"an escalation step of {where}", RECIPIENTS)
            if at is not None:
                steps.append(EscalationStep(at, to, level))
        anchor = m.get("anchor", "entry")
        if not isinstance(anchor, str) or not (
            anchor in ("entry", "needed_by") or re.match(r"^field:[a-z][a-z0-9_]*$", anchor)
        ):
            self.err(
                m.line_of("anchor"), f"'anchor' of {where} must be entry, needed_by or field:<name>"
            )
        extension = None
        if "extension" in m:
            extension = self.duration(
                m["extension"], m.line_of("extension"), "'extension'", signed=False
            )
        when = m.get("when")
        if within is None:
            return None
        return Deadline(
            name=self.name(m, "name", where),
            within=within,
            anchor=str(anchor),
            labels=self.labels(m, where),
            escalation=tuple(steps),
            runs_through=self.names(m, "runs_through", where),
            extension=extension,
            when=when if isinstance(when, str) else None,
            party=self.enum(m, "party", PARTIES, where, None),
            line=m.line,
        )

    def state(self, m: LineMap, _: str) -> State:
        where = f"state {m.get('name')!r}"
        self.keys(m, STATE_KEYS, ("name", "owner", "labels"), where)
        return State(
            name=self.name(m, "name", where),
            owner=self.enum(m, "owner", PARTIES, where, None),
            final=self.flag(m, "final", where),
            labels=self.labels(m, where),
            kind=self.enum(m, "kind", STATE_KINDS, where, None),
            deadlines=tuple(self.items(m, "deadlines", where, self.deadline)),
            clock_stops=self.names(m, "clock_stops", where),
            line=m.line,
        )

    def input(self, m: LineMap, where: str) -> Input:
        where = f"input {m.get('name')!r} of {where}"
        self.keys(m, INPUT_KEYS, ("name", "type"), where)
        itype = self.enum(m, "type", INPUT_TYPES, where, "text")
        choices: tuple[Choice, ...] = ()
        choices_from = None
        raw = m.get("choices")
        if isinstance(raw, LineMap):
            self.keys(raw, {"from"}, ("from",), f"'choices' of {where}")
            choices_from = raw.get("from")
            if choices_from != "refusal_grounds":
                self.err(raw.line, f"'choices' of {where} may only come 'from: refusal_grounds'")
        elif raw is not None:
            choices = self.choices(m, "choices", where)
        if itype in ("choice", "multichoice") and not (choices or choices_from):
            self.err(m.line, f"{where} of type {itype} needs choices")
        return Input(
            name=self.name(m, "name", where),
            type=itype,
            required=self.flag(m, "required", where),
            labels=self.labels(m, where) if "labels" in m else {"en": str(m.get("name"))},
            choices=choices,
            choices_from=choices_from,
            to_field=m.get("to_field") if isinstance(m.get("to_field"), str) else None,
            past=self.past(m, itype, where),
            line=m.line,
        )

    def transition(self, m: LineMap, _: str) -> Transition:
        where = f"transition {m.get('event')!r}"
        self.keys(m, TRANSITION_KEYS, ("event", "sources", "by", "labels"), where)
        sources_raw = m.get("sources")
        sources = ("*",) if sources_raw == "*" else self.names(m, "sources", where)
        stay = self.flag(m, "stay", where)
        if stay == ("dest" in m):
            self.err(m.line, f"{where} must have either 'dest' or 'stay: true'")
        roles = self.names(m, "roles", where, ROLES)
        return Transition(
            event=self.name(m, "event", where),
            sources=sources,
            dest=None if stay else str(m.get("dest")),
            by=self.enum(m, "by", PARTIES, where, None),
            labels=self.labels(m, where),
            roles=roles,
            guards=self.names(m, "guards", where),
            inputs=tuple(self.items(m, "inputs", where, self.input)),
            extends=m.get("extends") if isinstance(m.get("extends"), str) else None,
            after_closure=self.flag(m, "after_closure", where),
            line=m.line,
        )

    def workflow(self, doc: Any, file: str) -> Workflow | None:
        top = self.mapping(doc, 1, "the definition")
        if top is None:
            return None
        self.keys(
            top, TOP_KEYS, ("name", "version", "labels", "states", "transitions"), "the definition"
        )
        version = top.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            self.err(top.line_of("version"), "'version' must be a positive whole number")
            version = 0
        targets: dict[str, int] = {}
        for key, value in (
            self.mapping(top.get("targets", LineMap()), top.line_of("targets"), "targets") or {}
        ).items():
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                targets[key] = value
            else:
                self.err(top.line_of("targets"), f"target {key!r} must be a whole number")
        states = self.items(top, "states", "the definition", self.state)
        flagged = [s.name for s in states if s.final is False and _initial_flag(top, s.name)]
        initial = top.get("initial")
        if initial is None and len(flagged) == 1:
            initial = flagged[0]
        if not isinstance(initial, str):
            self.err(top.line, "the definition must name its initial state ('initial')")
            initial = ""
        transitions = self.items(top, "transitions", "the definition", self.transition)
        non_final = tuple(s.name for s in states if not s.final)
        transitions = [
            Transition(**{**_asdict(t), "sources": non_final}) if t.sources == ("*",) else t
            for t in transitions
        ]
        return Workflow(
            name=self.name(top, "name", "the definition"),
            version=version,
            labels=self.labels(top, "the definition"),
            fields=tuple(self.items(top, "fields", "the definition", self.field)),
            legal_bases={
                b.code: b for b in self.items(top, "legal_bases", "the definition", self.basis)
            },
            states={s.name: s for s in states},
            initial=initial,
            transitions=tuple(transitions),
            targets=targets,
            file=file,
        )


def _initial_flag(top: LineMap, name: str) -> bool:
    for raw in top.get("states") or ():
        if isinstance(raw, LineMap) and raw.get("name") == name:
            return raw.get("initial") is True
    return False


def _asdict(t: Transition) -> dict[str, Any]:
    # dataclasses.asdict would deep-copy labels into plain dicts and recurse into inputs.
    return {f: getattr(t, f) for f in Transition.__dataclass_fields__}


def build(path: Path) -> tuple[Workflow | None, list[DefinitionError]]:
    """Parse and shape-check one file. Never raises for a bad definition."""
    file = str(path)
    builder = _Builder(file)
    try:
        doc = parse(path.read_text(encoding="utf-8"))
    except SyntaxProblem as exc:
        return None, [DefinitionError(file, exc.line, exc.reason)]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [DefinitionError(file, 1, f"cannot read: {exc}")]
    wf = builder.workflow(doc, file)
    return wf, builder.errors
