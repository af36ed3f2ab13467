"""A history event's inputs and changed fields in the reader's words: each input under its
label from the workflow definition, each value formatted by its type (dates, languages by
name, authorities by name, choices by label, yes/no)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from babel import Locale
from flask_babel import gettext as _

from mla.web.i18n import day, lang, when
from mla.workflow.model import Choice, Input, Transition, Workflow, label
from mla.workflow.values import input_choices


def transition_of(wf: Workflow, event: str, source: str | None) -> Transition | None:
    """The transition ``event`` took from ``source`` (any of that name if none matches)."""
    named = [t for t in wf.transitions if t.event == event]
    return next((t for t in named if source in t.sources), named[0] if named else None)


def authority_codes(wf: Workflow, data: Iterable[Mapping[str, Any]]) -> set[str]:
    """The authority codes the inputs of these transition events name, to look up once."""
    codes: set[str] = set()
    for d in data:
        t = transition_of(wf, str(d.get("event", "")), d.get("from"))
        for i in t.inputs if t is not None else ():
            value = (d.get("inputs") or {}).get(i.name)
            if i.type == "authority" and isinstance(value, str):
                codes.add(value)
    return codes


def _choice(choices: tuple[Choice, ...], code: Any) -> str:
    found = next((c for c in choices if c.code == code), None)
    return label(found.labels, lang()) if found is not None else str(code)


def show_value(kind: str, value: Any, choices: tuple[Choice, ...], names: Mapping[str, str]) -> str:
    """``value`` of an input or field of type ``kind`` as the reader reads it."""
    if value is None or value == "" or value == []:
        return "—"
    if kind == "boolean":
        return str(_("yes") if value else _("no"))
    if kind == "date":
        return day(value)
    if kind == "datetime" and isinstance(value, str):
        try:
            return when(datetime.fromisoformat(value))
        except ValueError:
            return value
    if kind == "language":
        return str(Locale.parse(lang()).languages.get(str(value), value))
    if kind == "authority":
        return names.get(str(value), str(value))
    if kind == "choice":
        return _choice(choices, value)
    if kind == "multichoice" and isinstance(value, list):
        return ", ".join(_choice(choices, v) for v in value)
    if kind == "attachments" and isinstance(value, list):
        return ", ".join(f"#{v}" for v in value)
    if kind == "persons" and isinstance(value, list):
        return "; ".join(str(p.get("name", "")) for p in value if isinstance(p, Mapping))
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _input(t: Transition | None, name: str) -> Input | None:
    return next((i for i in t.inputs if i.name == name), None) if t is not None else None


def inputs_detail(
    wf: Workflow, basis: str, d: Mapping[str, Any], names: Mapping[str, str]
) -> list[str]:
    """One line per input of the transition event ``d``: its label and its value."""
    t = transition_of(wf, str(d.get("event", "")), d.get("from"))
    lines = []
    for name, value in (d.get("inputs") or {}).items():
        i = _input(t, name)
        if i is None:
            lines.append(f"{name.replace('_', ' ')}: {show_value('', value, (), names)}")
            continue
        shown = show_value(i.type, value, input_choices(i, wf, basis), names)
        lines.append(f"{label(i.labels, lang())}: {shown}")
    return lines


def field_labels(wf: Workflow, names: Iterable[str]) -> str:
    """The fields ``names`` by their labels, in the reader's language."""
    out = []
    for name in names:
        f = wf.field(name)
        out.append(label(f.labels, lang()) if f is not None else name.replace("_", " "))
    return ", ".join(out)
