"""Graph and cross-reference rules over a built :class:`Workflow`.

Each rule reports a :class:`DefinitionError` naming the line of the offending element. The
rules encode what DESIGN.md promises `mla workflows check` rejects, plus the references the
engine and the deadlines service rely on (figures, anchors, clock stops).
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from mla.workflow.model import Deadline, Duration, State, Workflow
from mla.workflow.shapes import DefinitionError

Report = Callable[[int, str], None]

_DATE_TYPES = ("date", "datetime")
_INPUT_FIELD_TYPES = {
    "date": ("date",),
    "text": ("text", "longtext"),
    "longtext": ("longtext",),
    "choice": ("choice",),
    "multichoice": ("multichoice",),
    "boolean": ("boolean",),
    "authority": ("text",),
}


def validate(wf: Workflow, guards: Collection[str]) -> list[DefinitionError]:
    """Every rule violation in ``wf``; empty when the definition is sound."""
    errors: list[DefinitionError] = []

    def err(line: int, reason: str) -> None:
        errors.append(DefinitionError(wf.file, line, reason))

    _states(wf, err)
    _transitions(wf, guards, err)
    _graph(wf, err)
    _deadlines(wf, err)
    _fields(wf, err)
    return errors


def _states(wf: Workflow, err: Report) -> None:
    if wf.initial and wf.initial not in wf.states:
        err(1, f"initial state {wf.initial!r} is not defined")
    elif wf.initial and wf.states[wf.initial].kind in ("refusal", "postponement"):
        err(
            wf.states[wf.initial].line,
            f"state {wf.initial!r} is a {wf.states[wf.initial].kind} "
            "state and cannot be initial: it is reachable only through consultation",
        )


def _transitions(wf: Workflow, guards: Collection[str], err: Report) -> None:
    seen: dict[tuple[str, str], int] = {}
    field_names = {f.name: f for f in wf.fields}
    for t in wf.transitions:
        if t.event == "state":
            err(t.line, "event name 'state' is reserved (it is the model's state attribute)")
        for source in t.sources:
            if source not in wf.states:
                err(t.line, f"transition {t.event!r} names unknown state {source!r} in 'sources'")
            key = (t.event, source)
            if key in seen:
                err(
                    t.line,
                    f"duplicate transition: event {t.event!r} from state {source!r} is "
                    f"already defined on line {seen[key]}",
                )
            seen[key] = t.line
        if not t.sources:
            err(t.line, f"transition {t.event!r} has no sources")
        if t.dest is not None and t.dest not in wf.states:
            err(t.line, f"transition {t.event!r} names unknown state {t.dest!r} in 'dest'")
        for guard in t.guards:
            if guard not in guards:
                err(t.line, f"transition {t.event!r} names unknown guard {guard!r}")
        if t.extends is not None:
            try:
                _, deadline = wf.deadline(t.extends)
            except KeyError:
                err(t.line, f"transition {t.event!r} extends unknown deadline {t.extends!r}")
            else:
                if deadline.extension is None:
                    err(
                        t.line,
                        f"transition {t.event!r} extends deadline {t.extends!r}, "
                        "which has no 'extension'",
                    )
        for i in t.inputs:
            if i.to_field is None:
                continue
            target = field_names.get(i.to_field)
            if target is None:
                err(i.line, f"input {i.name!r} of {t.event!r} names unknown field {i.to_field!r}")
            elif target.type not in _INPUT_FIELD_TYPES.get(i.type, ()):
                err(
                    i.line,
                    f"input {i.name!r} ({i.type}) cannot be stored in field "
                    f"{target.name!r} ({target.type})",
                )


def _graph(wf: Workflow, err: Report) -> None:
    if wf.initial not in wf.states:
        return
    reached = {wf.initial}
    frontier = [wf.initial]
    while frontier:
        name = frontier.pop()
        for t in wf.transitions_from(name):
            dest = t.target(name)
            if dest in wf.states and dest not in reached:
                reached.add(dest)
                frontier.append(dest)
    for state in wf.states.values():
        if state.name not in reached:
            err(state.line, f"state {state.name!r} is unreachable from {wf.initial!r}")
        out = wf.transitions_from(state.name)
        leaves = [t for t in out if t.target(state.name) != state.name]
        exits = [t for t in out if not t.after_closure]
        if state.final and exits:
            err(
                exits[0].line,
                f"final state {state.name!r} has a way out (event {exits[0].event!r}); "
                "only an 'after_closure' event may leave a final state",
            )
        elif not state.final and not leaves:
            err(state.line, f"non-final state {state.name!r} has no way out")
    for t in wf.transitions:
        opened = [s for s in t.sources if s in wf.states and not wf.states[s].final]
        if t.after_closure and (opened or t.dest is None):
            err(
                t.line,
                f"transition {t.event!r} is 'after_closure' but "
                + (f"leaves non-final state {opened[0]!r}" if opened else "stays where it is"),
            )
    for t in wf.transitions:
        target = wf.states.get(t.dest or "")
        if target is None or target.kind not in ("refusal", "postponement"):
            continue
        for source in t.sources:
            src = wf.states.get(source)
            if src is not None and src.kind != "consultation":
                err(
                    t.line,
                    f"transition {t.event!r} reaches {target.kind} state {target.name!r} "
                    f"from {source!r} without consultation (only a state of kind "
                    "consultation may lead there)",
                )


def _figure_ok(wf: Workflow, d: Duration | None, where: str, line: int, err: Report) -> None:
    if d is None or d.figure is None:
        return
    if not wf.legal_bases and d.figure not in wf.targets:
        err(line, f"{where} uses figure {d.figure!r}, which is not among the targets")
    for basis in wf.legal_bases.values():
        if d.figure not in basis.figures and d.figure not in wf.targets:
            err(
                line,
                f"{where} uses figure {d.figure!r}, which legal basis {basis.code!r} "
                "does not set (nor do the targets)",
            )


def _deadlines(wf: Workflow, err: Report) -> None:
    owners: dict[str, tuple[State, Deadline]] = {}
    for state in wf.states.values():
        for d in state.deadlines:
            where = f"deadline {d.name!r} of state {state.name!r}"
            if d.name in owners:
                err(
                    d.line,
                    f"duplicate deadline name {d.name!r} (also in state "
                    f"{owners[d.name][0].name!r})",
                )
            owners[d.name] = (state, d)
            if not d.escalation:
                err(d.line, f"{where} has no escalation")
            _figure_ok(wf, d.within, where, d.line, err)
            _figure_ok(wf, d.extension, where, d.line, err)
            for step in d.escalation:
                _figure_ok(wf, step.offset, where, d.line, err)
            for name in d.runs_through:
                if name not in wf.states:
                    err(d.line, f"{where} runs through unknown state {name!r}")
            # ``needed_by`` is a column of every request, not a workflow field.
            anchor = d.anchor_field
            if anchor is not None:
                f = wf.field(anchor)
                if f is None or f.type not in _DATE_TYPES:
                    err(d.line, f"{where} is anchored to {anchor!r}, which is not a date field")
            when = wf.field(d.when) if d.when is not None else None
            if d.when is not None and (when is None or when.type != "boolean"):
                err(d.line, f"{where} runs 'when' {d.when!r}, which is not a boolean field")
    for state in wf.states.values():
        for name in state.clock_stops:
            if name not in owners:
                err(state.line, f"state {state.name!r} stops unknown deadline {name!r}")
            elif (owners[name][1].party or owners[name][0].owner) == state.owner:
                err(
                    state.line,
                    f"state {state.name!r} stops deadline {name!r} of its own party "
                    f"({state.owner}); a clock stop pauses the other party's clock",
                )


def _fields(wf: Workflow, err: Report) -> None:
    names = {f.name for f in wf.fields}
    for f in wf.fields:
        for other in f.required_unless:
            if other not in names:
                err(f.line, f"field {f.name!r} is 'required_unless' unknown field {other!r}")
        for basis in f.bases:
            if basis not in wf.legal_bases:
                err(f.line, f"field {f.name!r} names unknown legal basis {basis!r}")
