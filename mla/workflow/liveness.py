"""Liveness: a request can always move on, and can always still reach an end.

A dead end is a definition in which a request can come to rest in an open state: every event
there is blocked for good (its party does not exist on the request, or its guards require
fields the request may lack and nobody can fill any more), or every way on leads only to such
places. Nothing in the graph alone shows this, so the check follows what a request is
guaranteed to hold, from the definition and the guards' declared needs
(:data:`mla.workflow.registry.NEEDS`).

It explores abstract requests: a state with :class:`Facts`, breadth first from the initial
state, along the events that can fire with those facts. Facts grow only (a field once
guaranteed stays so, an executing authority once set stays, a transmitted request is never
editable again), so the exploration ends. Keeping one node per (state, facts) rather than
merging the facts of every path into a state keeps it precise: a draft sent back after
transmission is not confused with a fresh, editable one.

Two findings, each named by the state's line and reached by a shortest witness path:

- **dead**: a node of an open state where no event can fire except escapes (an event open
  from every open state, ``sources: "*"``, such as withdraw: it ends a request, it does not
  move one on, and it must not make a dead state look alive);
- **stuck**: a node from which no final state can be reached by events (escapes apart) that
  can fire.

Time-based guards (a period that has run out) count as able to fire: time brings them about.
Per legal basis, because what ``complete`` requires depends on it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from mla.workflow.model import Transition, Workflow
from mla.workflow.registry import NEEDS, required_fields, supplied
from mla.workflow.shapes import DefinitionError

# How many blocked events a "stuck" finding names before "and N more".
_SHOWN = 3
# Where a finding's message says which legal bases it holds under.
_BASIS = "{basis}"


@dataclass(frozen=True, slots=True)
class Facts:
    """What a request is guaranteed to have on every path to a node.

    ``held``: fields whose requirement is met (a guard requiring them passed, or a required
    input stored into them). ``authority``: an executing authority is set. ``editable``: the
    requesting side may still edit the fields — the request has never left its states (the
    request service sets ``transmitted_at`` on first entering another party's state, and
    from then on the contents are frozen; see
    ``mla.requests.drafts.RequestDrafts.editable_reason``).
    """

    held: frozenset[str]
    authority: bool
    editable: bool


Node = tuple[str, Facts]


def _sets_authority(t: Transition, *, only_if_required: bool) -> bool:
    """Whether ``t`` takes the executing authority (the request service stores an ``authority``
    input named ``executing_authority`` as the request's executing authority)."""
    guarded = any(NEEDS[g].executing_authority for g in t.guards if g in NEEDS)
    return any(
        i.name == "executing_authority"
        and i.type == "authority"
        and (i.required or guarded or not only_if_required)
        for i in t.inputs
    )


class _Required:
    """The fields the guards of a transition (or one of its guards) require on one basis of
    a request that holds no values yet: the same at every node, so worked out once each."""

    def __init__(self, wf: Workflow, basis: str) -> None:
        self.wf, self.basis = wf, basis
        self._known: dict[tuple[int, tuple[str, ...] | None], list[str]] = {}

    def __call__(self, t: Transition, guards: tuple[str, ...] | None = None) -> list[str]:
        key = (id(t), guards)
        if key not in self._known:
            self._known[key] = required_fields(self.wf, t, self.basis, {}, guards=guards)
        return self._known[key]


def _blocked(t: Transition, required: _Required, facts: Facts) -> list[str]:
    """Why ``t`` can never fire for a request with ``facts`` on ``required``'s basis; empty if
    it can."""
    why = []
    if t.by == "executing" and not facts.authority:
        why.append("by the executing party, and no event on the way names an executing authority")
    declared = {i.name for i in t.inputs}
    for g in t.guards:
        needs = NEEDS.get(g)
        if needs is None:
            continue  # an unknown guard is a structural error, reported before this runs
        absent = [i for i in needs.inputs if i not in declared]
        if absent:
            why.append(f"guard {g!r} judges input {', '.join(absent)}, which it does not take")
        if (
            needs.executing_authority
            and not facts.authority
            and not _sets_authority(t, only_if_required=False)
        ):
            why.append(
                f"guard {g!r} needs an executing authority, which no event on the way "
                "sets and it does not take"
            )
    if not facts.editable:
        given = supplied(t)
        for g in t.guards:
            lacking = [f for f in required(t, (g,)) if f not in facts.held and f not in given]
            if lacking:
                why.append(
                    f"guard {g!r} requires {', '.join(lacking)}: the request may lack them, and "
                    "once transmitted no one can edit them, nor does the event take them as inputs"
                )
    return why


def _after(wf: Workflow, t: Transition, required: _Required, facts: Facts, dest: str) -> Facts:
    """The facts of a request with ``facts`` once ``t`` has fired into ``dest``."""
    held = set(facts.held) | set(required(t))
    held |= {i.to_field for i in t.inputs if i.to_field is not None and i.required}
    return Facts(
        held=frozenset(held),
        authority=facts.authority or _sets_authority(t, only_if_required=True),
        editable=facts.editable and wf.states[dest].owner == "requesting",
    )


def _escapes(wf: Workflow) -> set[int]:
    """The ids of transitions open from every open state (``sources: "*"``, which the
    loader expands): they end a request, they do not move it on."""
    open_states = {s.name for s in wf.states.values() if not s.final}
    if len(open_states) < 2:
        return set()
    return {id(t) for t in wf.transitions if set(t.sources) == open_states}


@dataclass
class _Graph:
    """The explored abstract requests of one basis."""

    parent: dict[Node, tuple[Node, str] | None]
    edges: dict[Node, list[Node]]  # through events that can fire, escapes apart
    stopped: dict[Node, list[tuple[Transition, list[str]]]]  # blocked events, escapes apart
    escaping: dict[Node, list[tuple[str, Node]]]  # escape events that can fire here


def explore(wf: Workflow, basis: str) -> _Graph:
    """Every abstract request reachable from a new one on ``basis``, breadth first."""
    start: Node = (
        wf.initial,
        Facts(frozenset(), False, wf.states[wf.initial].owner == "requesting"),
    )
    graph = _Graph({start: None}, {}, {}, {})
    escape = _escapes(wf)
    required = _Required(wf, basis)
    queue = deque([start])
    while queue:
        node = queue.popleft()
        state, facts = node
        graph.edges[node], graph.stopped[node], graph.escaping[node] = [], [], []
        for t in wf.transitions_from(state):
            why = _blocked(t, required, facts)
            escaping = id(t) in escape
            if why:
                if not escaping:
                    graph.stopped[node].append((t, why))
                continue
            dest = t.target(state)
            nxt = (dest, _after(wf, t, required, facts, dest))
            if escaping:
                graph.escaping[node].append((t.event, nxt))
            else:
                graph.edges[node].append(nxt)
            if nxt not in graph.parent:
                graph.parent[nxt] = (node, t.event)
                queue.append(nxt)
    return graph


def _path(graph: _Graph, node: Node) -> list[str]:
    events: list[str] = []
    step = graph.parent[node]
    while step is not None:
        events.append(step[1])
        step = graph.parent[step[0]]
    return events[::-1]


def _ending(wf: Workflow, graph: _Graph) -> set[Node]:
    """The nodes from which a final state can be reached through ``graph.edges``."""
    into: dict[Node, list[Node]] = {}
    for node, nexts in graph.edges.items():
        for nxt in nexts:
            into.setdefault(nxt, []).append(node)
    done = {n for n in graph.parent if wf.states[n[0]].final}
    queue = deque(done)
    while queue:
        for prev in into.get(queue.popleft(), ()):
            if prev not in done:
                done.add(prev)
                queue.append(prev)
    return done


def _reasons(stopped: list[tuple[Transition, list[str]]]) -> str:
    """``'a', 'b': why; 'c': why`` — events blocked for the same reasons named together."""
    grouped: dict[str, list[str]] = {}
    for t, why in stopped:
        grouped.setdefault("; ".join(why), []).append(repr(t.event))
    return "; ".join(f"{', '.join(events)}: {why}" for why, events in grouped.items())


def _findings(wf: Workflow, basis: str) -> Iterator[tuple[str, str, str]]:
    """(kind, state, message) for each dead state, and each state where a request first
    gets stuck (the point of no return: new, or entered from a node that could still end);
    the first node of each found."""
    graph = explore(wf, basis)
    ending = _ending(wf, graph)
    entered_live = {next(iter(graph.parent))}
    for node in ending:
        entered_live.update(graph.edges.get(node, ()))
        entered_live.update(nxt for _, nxt in graph.escaping.get(node, ()))
    seen: set[tuple[str, str]] = set()
    for node in graph.parent:  # insertion order is breadth first: shortest witnesses first
        state = node[0]
        if wf.states[state].final:
            continue
        path = _path(graph, node)
        via = f"reached by {', '.join(path)}" if path else "as created"
        message: str | None
        if not graph.edges[node]:
            kind, message = "dead", _dead(graph, node)
        elif node not in ending and node in entered_live:
            kind, message = "stuck", _stuck(graph, node)
        else:
            continue
        if message is not None and (kind, state) not in seen:
            seen.add((kind, state))
            yield kind, state, message.replace("{via}", via)


def _dead(graph: _Graph, node: Node) -> str:
    left = [event for event, _ in graph.escaping[node]]
    tail = f"; only {', '.join(map(repr, left))} (open from every state) is left" if left else ""
    reasons = _reasons(graph.stopped[node]) or "it has no events"
    return f"no event can fire once a request is here ({{via}}{_BASIS}): {reasons}{tail}"


def _stuck(graph: _Graph, node: Node) -> str | None:
    """The finding for a node from which no final state can be reached; None when it only
    repeats those of the dead states it leads to (nothing is blocked anywhere else)."""
    closure = _closure(graph, node)
    dead = sorted({n[0] for n in closure if not graph.edges[n]})
    sources: dict[tuple[str, str], list[str]] = {}
    for n in closure:
        for t, why in graph.stopped[n]:
            at = sources.setdefault((t.event, "; ".join(why)), [])
            if n[0] not in at:
                at.append(n[0])
    if dead and not any(graph.stopped[n] for n in closure if graph.edges[n]):
        return None
    leads = (
        f"every way on ends in {', '.join(map(repr, dead))}"
        if dead
        else ("its events only go round in circles")
    )
    shown = "; ".join(
        f"{event!r} from {', '.join(map(repr, at))}: {why}"
        for (event, why), at in list(sources.items())[:_SHOWN]
    )
    if len(sources) > _SHOWN:
        shown += f" (and {len(sources) - _SHOWN} more)"
    blocked_text = f"; blocked on the way: {shown}" if shown else ""
    return f"no final state can be reached from here ({{via}}{_BASIS}): {leads}{blocked_text}"


def _closure(graph: _Graph, node: Node) -> list[Node]:
    seen = {node}
    order = [node]
    queue = deque([node])
    while queue:
        for nxt in graph.edges[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                order.append(nxt)
                queue.append(nxt)
    return order


def liveness(wf: Workflow) -> list[DefinitionError]:
    """Every dead or stuck state of ``wf`` (see the module), at most one of each kind per
    state, at the state's line. Requires a structurally valid ``wf`` (``validate`` clean)."""
    bases = list(wf.legal_bases) or [""]
    found: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for basis in bases:
        for kind, state, message in _findings(wf, basis):
            found.setdefault((kind, state), (message, []))[1].append(basis)
    errors = []
    for (_, state), (message, where) in found.items():
        note = ""
        if len(where) == len(bases) > 1:
            note = f"; under every legal basis, as under {where[0]!r}"
        elif len(bases) > 1:
            note = f"; under legal basis {', '.join(map(repr, where))}"
        prefix = f"state {state!r} ({wf.states[state].owner}): "
        errors.append(
            DefinitionError(wf.file, wf.states[state].line, prefix + message.replace(_BASIS, note))
        )
    return sorted(errors, key=lambda e: e.line)
