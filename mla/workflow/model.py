"""The definition schema: frozen dataclasses built by :mod:`mla.workflow.loader`.

A :class:`Workflow` is immutable once loaded and shared by every request opened under its
version, so nothing here may be mutated after construction (the indexes built in
``__post_init__`` are private caches, never changed afterwards).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Literal

PARTIES = ("requesting", "requested", "executing")
# Ascending: a higher role may do whatever a lower one may (admin ⊇ supervisor ⊇ clerk).
ROLES = ("clerk", "supervisor", "admin")
LANGUAGES = ("en", "es", "fr", "pt")
FIELD_TYPES = (
    "text",
    "longtext",
    "date",
    "datetime",
    "choice",
    "multichoice",
    "boolean",
    "integer",
    "persons",
    # A language code, checked against the requested authority's accepted languages.
    "language",
    # A treaty code from the directory of bilateral treaties.
    "treaty",
)
# ``attachments``: ids of attachments of the request (documents an event brings with it).
INPUT_TYPES = (
    "text",
    "longtext",
    "choice",
    "multichoice",
    "date",
    "authority",
    "boolean",
    "attachments",
)
UNITS = ("calendar_days", "business_days", "hours", "months")
RECIPIENTS = ("assignee", "clerks", "supervisors", "admins", "counterpart")
STATE_KINDS = ("consultation", "refusal", "postponement")
PERSON_KEYS = ("name", "nationality", "location", "role")

Unit = Literal["calendar_days", "business_days", "hours", "months"]
Labels = Mapping[str, str]


def label(labels: Labels, lang: str) -> str:
    """The label in ``lang``, falling back to English (the loader guarantees ``en``)."""
    return labels.get(lang) or labels["en"]


@dataclass(frozen=True, slots=True)
class Duration:
    """A span of time: ``amount`` units, or the legal basis's figure ``figure`` in ``unit``.

    ``amount`` may be negative only in escalation offsets (before the due time).
    """

    amount: int | None
    unit: Unit
    figure: str | None = None

    def resolve(self, figures: Mapping[str, int]) -> tuple[int, Unit]:
        """``(amount, unit)`` with a figure reference looked up in ``figures``.

        Raises KeyError when the figure is missing (the validator rules that out for every
        basis of a loaded workflow).
        """
        if self.figure is not None:
            return figures[self.figure], self.unit
        assert self.amount is not None
        return self.amount, self.unit

    def __str__(self) -> str:
        unit = self.unit.replace("_", " ")
        if self.figure is not None:
            return f"{self.figure} {unit}"
        return f"{self.amount:+d} {unit}" if self.amount else f"0 {unit}"


@dataclass(frozen=True, slots=True)
class Choice:
    code: str
    labels: Labels


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """Step ``level`` (1-based, by order) fires at due time + ``offset`` and tells ``to``."""

    offset: Duration
    to: tuple[str, ...]
    level: int


@dataclass(frozen=True, slots=True)
class Deadline:
    """A clock that runs while the request is in the declaring state.

    - Starts on entering the declaring state; keeps running through ``runs_through`` states;
      closes on leaving that set, except into a state whose ``clock_stops`` names it, where it
      pauses and resumes (due date pushed back by the pause) on coming back.
    - Due: ``anchor`` ``entry`` → entry + ``within``; ``field:<f>`` → the request's date field
      ``f`` + ``within``; ``needed_by`` → the earlier of entry + ``within`` and the request's
      ``needed_by`` date (the date the requesting state asked for, a column of every request
      like urgency and confidentiality), when that is set.
    - ``when``: a boolean field; the deadline runs only when that field is true.
    - ``extension``: it may be extended once by this much (a transition with ``extends``).
    - ``party``: the party that must meet it, when not the declaring state's owner (a
      detention clock the requested state keeps while the requesting state holds the
      request); its authority's calendar and time zone count it and its people are escalated
      to, ``counterpart`` being the other side.
    """

    name: str
    within: Duration
    anchor: str
    labels: Labels
    escalation: tuple[EscalationStep, ...]
    runs_through: tuple[str, ...] = ()
    extension: Duration | None = None
    when: str | None = None
    party: str | None = None
    line: int = dc_field(default=0, compare=False, repr=False)

    @property
    def anchor_field(self) -> str | None:
        return self.anchor.removeprefix("field:") if self.anchor.startswith("field:") else None


@dataclass(frozen=True, slots=True)
class Field:
    """A request field. Required when ``required`` and the basis is in ``bases`` (empty: all),
    unless every value of a field named in ``required_unless`` is among the listed codes
    (e.g. facts are not needed when the only assistance sought is service of documents).
    ``required_in`` names checkpoints (e.g. ``provisional_arrest``) with their own guard.
    ``past``: a date that must not be later than today (the date of an arrest, of receipt)."""

    name: str
    type: str
    required: bool
    labels: Labels
    help: Labels
    choices: tuple[Choice, ...] = ()
    required_in: tuple[str, ...] = ()
    required_unless: Mapping[str, tuple[str, ...]] = dc_field(default_factory=dict)
    bases: tuple[str, ...] = ()
    past: bool = False
    line: int = dc_field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class LegalBasis:
    """A legal basis: its closed list of refusal grounds and its deadline figures."""

    code: str
    labels: Labels
    refusal_grounds: tuple[Choice, ...]
    figures: Mapping[str, int]
    line: int = dc_field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class State:
    name: str
    owner: str
    final: bool
    labels: Labels
    kind: str | None = None
    deadlines: tuple[Deadline, ...] = ()
    # Deadlines (of states owned by another party) paused while the request is here.
    clock_stops: tuple[str, ...] = ()
    line: int = dc_field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Input:
    """What the actor gives when firing an event. ``choices_from`` = ``refusal_grounds`` means
    the request's legal basis's closed list. ``to_field``: the service stores the value into
    ``request.fields[to_field]`` (e.g. the arrest date that anchors a deadline); given on a
    ``stay`` event it corrects a recorded value. ``past``: a date not later than today."""

    name: str
    type: str
    required: bool
    labels: Labels
    choices: tuple[Choice, ...] = ()
    choices_from: str | None = None
    to_field: str | None = None
    past: bool = False
    line: int = dc_field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Transition:
    """Event ``event`` from any of ``sources`` to ``dest``, fired by party ``by``.

    ``dest`` None: the request stays where it is (no exit or entry; deadlines keep running).
    ``roles`` empty: any role; otherwise the lowest listed role or above. ``extends`` names a
    deadline this event extends once by its ``extension``.
    """

    event: str
    sources: tuple[str, ...]
    dest: str | None
    by: str
    labels: Labels
    roles: tuple[str, ...] = ()
    guards: tuple[str, ...] = ()
    inputs: tuple[Input, ...] = ()
    extends: str | None = None
    # Leaves a final state (e.g. consent to use the evidence further, asked after closure):
    # the request is open again until it comes back to a final state.
    after_closure: bool = False
    # A step that cannot be taken back (signing, transmitting, a decision): the UI asks for
    # confirmation. A step into a final state is irreversible whether or not it says so.
    irreversible: bool = False
    line: int = dc_field(default=0, compare=False, repr=False)

    @property
    def min_role(self) -> str | None:
        return min(self.roles, key=ROLES.index) if self.roles else None

    def target(self, source: str) -> str:
        """The state the request is in after firing this from ``source``."""
        return source if self.dest is None else self.dest


@dataclass(frozen=True)
class Workflow:
    """One version of one kind of request."""

    name: str
    version: int
    labels: Labels
    fields: tuple[Field, ...]
    legal_bases: Mapping[str, LegalBasis]
    states: Mapping[str, State]
    initial: str
    transitions: tuple[Transition, ...]
    # Service-level targets (named figures) every basis inherits unless it sets its own.
    targets: Mapping[str, int] = dc_field(default_factory=dict)
    file: str = ""
    _fields: dict[str, Field] = dc_field(init=False, repr=False, compare=False)
    _from: dict[str, tuple[Transition, ...]] = dc_field(init=False, repr=False, compare=False)
    _deadlines: dict[str, tuple[State, Deadline]] = dc_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        outgoing: dict[str, list[Transition]] = {name: [] for name in self.states}
        for t in self.transitions:
            for source in t.sources:
                outgoing.setdefault(source, []).append(t)
        deadlines = {d.name: (s, d) for s in self.states.values() for d in s.deadlines}
        object.__setattr__(self, "_fields", {f.name: f for f in self.fields})
        object.__setattr__(self, "_from", {k: tuple(v) for k, v in outgoing.items()})
        object.__setattr__(self, "_deadlines", deadlines)

    @property
    def key(self) -> tuple[str, int]:
        return (self.name, self.version)

    def field(self, name: str) -> Field | None:
        return self._fields.get(name)

    def transitions_from(self, state: str) -> tuple[Transition, ...]:
        """Transitions open from ``state``, in definition order."""
        return self._from.get(state, ())

    def deadline(self, name: str) -> tuple[State, Deadline]:
        """The deadline ``name`` and the state declaring it. Raises KeyError."""
        return self._deadlines[name]

    def submit_event(self) -> str | None:
        """The event that sends a draft on: the first from the initial state, by the
        requesting party, that checks the request is complete and asks for no inputs
        (mla: submit for review). None if the workflow has no such gate."""
        for t in self.transitions_from(self.initial):
            if "complete" in t.guards and not t.inputs and t.by == "requesting":
                return t.event
        return None

    def transmission_path(self) -> tuple[str, ...] | None:
        """The events that take a new request from the initial state to the requested side in
        one go: the fewest requesting-party events, none asking for a required input, through
        states the requesting side holds, the last one checking that the request is complete
        and entering a state the requested side holds (mla: submit for review, sign,
        transmit; extradition: transmit the formal request). None if there is no such way."""
        paths: dict[str, tuple[str, ...]] = {self.initial: ()}
        frontier = [self.initial]
        while frontier:
            following: list[str] = []
            for source in frontier:
                for t in self.transitions_from(source):
                    state = self.states.get(t.dest or "")
                    if t.by != "requesting" or state is None or state.final:
                        continue
                    if any(i.required for i in t.inputs):
                        continue
                    path = (*paths[source], t.event)
                    if state.owner == "requested" and "complete" in t.guards:
                        return path
                    if state.owner == "requesting" and state.name not in paths:
                        paths[state.name] = path
                        following.append(state.name)
            frontier = following
        return None

    def intake_states(self) -> tuple[str, ...]:
        """The states a requesting state's transmission reaches: a requesting-party event from
        a state of its preparation (reached from the initial state through states it holds)
        into one the requested side holds, in definition order. Where a request received
        from a state not on mla is recorded as starting."""
        preparing = {self.initial}
        frontier = [self.initial]
        while frontier:
            for t in self.transitions_from(frontier.pop()):
                state = self.states.get(t.dest or "")
                if state is None or state.name in preparing:
                    continue
                if state.owner == "requesting" and not state.final:
                    preparing.add(state.name)
                    frontier.append(state.name)
        out: list[str] = []
        for t in self.transitions:
            if t.by != "requesting" or t.dest is None or t.dest in out:
                continue
            if self.states[t.dest].owner != "requested" or self.states[t.dest].final:
                continue
            if preparing.intersection(t.sources):
                out.append(t.dest)
        return tuple(out)

    def is_irreversible(self, t: Transition, source: str) -> bool:
        """Whether taking ``t`` from ``source`` cannot be taken back: declared so, or it ends
        the request (a final state)."""
        dest = self.states.get(t.target(source))
        return t.irreversible or (dest is not None and dest.final)

    def from_anywhere(self, t: Transition) -> bool:
        """Whether ``t`` is open from every open state (declared ``sources: "*"``, such as
        withdraw): an escape, not a step on the way."""
        open_states = {s.name for s in self.states.values() if not s.final}
        return len(open_states) > 1 and set(t.sources) >= open_states

    def recorded_by_steps(self) -> frozenset[str]:
        """Fields no draft is asked for: neither required nor checked at a checkpoint, and
        stored by a step that requires them as an input (``to_field``), such as the date
        to resume a postponed request or the date of an arrest."""
        asked = {
            i.to_field
            for t in self.transitions
            for i in t.inputs
            if i.to_field is not None and i.required
        }
        return frozenset(
            f.name for f in self.fields if f.name in asked and not f.required and not f.required_in
        )

    def figures(self, basis: str) -> dict[str, int]:
        """The deadline figures in force for ``basis``: the targets, overridden by the basis's
        own figures. An authority's own overrides are applied by the deadlines service."""
        own = self.legal_bases[basis].figures if basis in self.legal_bases else {}
        return {**self.targets, **own}

    def refusal_grounds(self, basis: str) -> tuple[Choice, ...]:
        b = self.legal_bases.get(basis)
        return b.refusal_grounds if b else ()
