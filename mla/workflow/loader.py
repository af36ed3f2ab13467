"""Build :class:`~mla.workflow.model.Workflow` objects from YAML, collecting every error.

The builder checks shape (keys, types, vocabularies); :mod:`mla.workflow.validate` then checks
the graph and cross-references. Both report :class:`DefinitionError` with file and line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mla.workflow.model import (
    FIELD_TYPES,
    INPUT_TYPES,
    PARTIES,
    RECIPIENTS,
    ROLES,
    STATE_KINDS,
    Choice,
    Deadline,
    EscalationStep,
    Field,
    Input,
    LegalBasis,
    State,
    Transition,
    Workflow,
)
from mla.workflow.shapes import CODE, DefinitionError, ShapeChecker
from mla.workflow.yamlsrc import LineMap, SyntaxProblem, parse

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
TRANSITION_KEYS |= {"labels", "extends", "after_closure", "irreversible"}
INPUT_KEYS = {"name", "type", "required", "choices", "labels", "to_field", "past"}


class _Builder(ShapeChecker):
    """Walks one definition: its fields, legal bases, states with their deadlines, and
    transitions with their inputs."""

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
            code=self.name(m, "code", where, CODE),
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
            irreversible=self.flag(m, "irreversible", where),
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
