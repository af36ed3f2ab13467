"""Mermaid ``stateDiagram-v2`` of a workflow, owner parties as classes, current state marked."""

from __future__ import annotations

from collections.abc import Mapping

from mla.workflow.model import PARTIES, Workflow, label

# One colour per owner party, so a reader sees where the request changes hands.
_PARTY_STYLE = {
    "requesting": "fill:#e3f2fd,stroke:#1565c0,color:#0d47a1",
    "requested": "fill:#fff3e0,stroke:#ef6c00,color:#e65100",
    "executing": "fill:#e8f5e9,stroke:#2e7d32,color:#1b5e20",
}
_CURRENT_STYLE = "fill:#ffebee,stroke:#c62828,stroke-width:4px,color:#b71c1c"


def _text(value: str) -> str:
    # Mermaid state descriptions end at a double quote and treat ':' as a separator.
    return value.replace('"', "'").replace(":", " -")


def mermaid(
    workflow: Workflow,
    current: str | None = None,
    lang: str = "en",
    *,
    people: bool = False,
    parties: Mapping[str, str] | None = None,
) -> str:
    """The diagram source. Every state appears with its label and owner party (named as in
    ``parties``, else by its code); ``current`` (if given and known) carries the ``current``
    class instead of its party's class. ``people``: for a reader rather than the
    definition's author, arrows carry the events' labels in ``lang`` and events open from
    every state (withdraw) are left out (an arrow from each state would hide the rest; the
    request page lists them once)."""
    lines = ["stateDiagram-v2"]
    owners = parties or {}
    for state in workflow.states.values():
        owner = owners.get(state.owner, state.owner)
        text = _text(f"{label(state.labels, lang)} ({owner})")
        lines.append(f'    state "{text}" as {state.name}')
    lines.append(f"    [*] --> {workflow.initial}")
    for t in workflow.transitions:
        if people and workflow.from_anywhere(t):
            continue
        name = _text(label(t.labels, lang)) if people else t.event
        for source in t.sources:
            lines.append(f"    {source} --> {t.target(source)}: {name}")
    for state in workflow.states.values():
        if state.final:
            lines.append(f"    {state.name} --> [*]")
    for party in PARTIES:
        lines.append(f"    classDef {party} {_PARTY_STYLE[party]}")
    lines.append(f"    classDef current {_CURRENT_STYLE}")
    for party in PARTIES:
        names = [s.name for s in workflow.states.values() if s.owner == party and s.name != current]
        if names:
            lines.append(f"    class {','.join(names)} {party}")
    if current in workflow.states:
        lines.append(f"    class {current} current")
    return "\n".join(lines) + "\n"
