"""Replaying a request's history to the request row it must have left.

Each event that changes a request records under ``row`` in its data the values it left on
the row: the creation every column, a transition its state, holder, executing authority,
transmission, closure and the fields its inputs set, a field change the values set and the
fields removed, an assignment the assignee of the assigning authority (``assigned``: its
code and the username; each party authority has its own assignee, kept on its
``request_party`` row). Values are recorded as a reader of the history would name them:
authorities by code, the assignee by username, dates and instants in ISO
8601. Replaying the ``row`` entries in order gives what the row must hold now; ``mla audit
verify`` compares, so a column changed in the database without an event in the history
(say, the requested authority, which decides who sees the request) is caught like a broken
link.

Histories written before values were recorded (events without ``row``) tell less, and the
replay compares only what they tell: the state (created and transition events name it),
the assignee (assignment events name the username; before each party had its own, a
request had one, that user's authority's), and that a new request had no executing
authority, assignee or outcome; a transition with inputs, or a field change by
name only, leaves what it may have changed unknown until an event records it again. Such a
request is reported as checked in part.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from mla.audit.models import EventKind
from mla.authorities.models import Authority, User

ROW: Final = "row"  # the key of an event's data that holds the values it left on the row

# Recorded name -> the request column holding an authority's id.
AUTHORITIES: Final = {
    "holder": "holder_authority_id",
    "requesting": "requesting_authority_id",
    "requested": "requested_authority_id",
    "executing": "executing_authority_id",
}
HEADER: Final = (
    "urgency",
    "their_reference",
    "confidential",
    "needed_by",
    "needed_by_reason",
    "offence_categories",
)
# Every column the history accounts for, in the order differences are reported.
COLUMNS: Final = (
    "reference",
    "kind",
    "workflow_version",
    "state",
    *AUTHORITIES,
    "legal_basis",
    *HEADER,
    "assignees",
    "transmitted_at",
    "closed_at",
    "outcome",
    "created_by",
)
# What a transition may change (its fields come apart, as ``fields_set``).
TRANSITION: Final = ("state", "holder", "executing", "transmitted_at", "closed_at", "outcome")
# The columns whose request-row attribute names the recorded name does not give.
_LABELS: Final = {
    "holder": "holding authority",
    "requesting": "requesting authority",
    "requested": "requested authority",
    "executing": "executing authority",
    "confidential": "confidentiality",
    "created_by": "creator",
}
# Assignments as recorded, folded in order (see ``Replay.assignees``): the whole map (a new
# request), one authority's (an assignment), one authority leaving (another executing
# authority), or the one assignee of a request before each party had its own.
_ALL, _SET, _DROP, _ONE = "all", "set", "drop", "one"


def instant(at: datetime | None) -> str | None:
    """An instant as the history records it (UTC, microseconds), or None."""
    return None if at is None else at.astimezone(UTC).isoformat(timespec="microseconds")


def _value(
    row: Any,
    name: str,
    code_of: Callable[[int], str],
    username_of: Callable[[int], str],
) -> Any:
    """Column ``name`` of ``row`` (a Request, or a result row with its column names) in
    recorded form."""
    if name in AUTHORITIES:
        authority_id = getattr(row, AUTHORITIES[name])
        return None if authority_id is None else code_of(authority_id)
    if name == "assignees":
        return {
            code_of(p.authority_id): username_of(p.assignee_id)
            for p in row.parties
            if p.assignee_id is not None
        }
    if name == "created_by":
        user_id = getattr(row, f"{name}_id")
        return None if user_id is None else username_of(user_id)
    value = getattr(row, name)
    if name in ("transmitted_at", "closed_at"):
        return instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if name == "urgency":
        return str(value)
    return value


def recorded(session: Session, request: Any, names: Iterable[str], **extra: Any) -> dict[str, Any]:
    """The ``row`` entry of an event: columns ``names`` of ``request`` (flushed) in recorded
    form, and ``extra`` (``fields``, ``fields_set``, ``fields_removed``) as given."""

    def code_of(authority_id: int) -> str:
        return session.get_one(Authority, authority_id).code

    def username_of(user_id: int) -> str:
        return session.get_one(User, user_id).username

    return {n: _value(request, n, code_of, username_of) for n in names} | extra


class Names:
    """Authority codes and usernames by id, for comparing many rows: authorities are few and
    read once; usernames are read per batch of rows (:meth:`load_users`)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.codes: dict[int, str] = {
            authority_id: code
            for authority_id, code in session.execute(select(Authority.id, Authority.code))
        }
        self.usernames: dict[int, str] = {}
        self.user_codes: dict[str, str | None] = {}

    def load_users(self, user_ids: Iterable[int | None]) -> None:
        wanted = {i for i in user_ids if i is not None} - set(self.usernames)
        if wanted:
            rows = self.session.execute(select(User.id, User.username).where(User.id.in_(wanted)))
            self.usernames.update({user_id: username for user_id, username in rows})

    def _code(self, authority_id: int) -> str:
        if authority_id not in self.codes:  # added while verify runs
            self.codes[authority_id] = self.session.get_one(Authority, authority_id).code
        return self.codes[authority_id]

    def authority_of(self, username: str) -> str | None:
        """The code of the authority of the user ``username`` (None: no such user)."""
        if username not in self.user_codes:
            authority_id = self.session.scalar(
                select(User.authority_id).where(User.username == username)
            )
            self.user_codes[username] = None if authority_id is None else self._code(authority_id)
        return self.user_codes[username]

    def observed(self, row: Any, assignees: Mapping[int, int]) -> dict[str, Any]:
        """Every column of ``row`` the history accounts for, in recorded form, and its
        fields; ``assignees``: authority id -> user id of its party rows with an assignee."""
        self.load_users([row.created_by_id, *assignees.values()])  # no-op once batch-loaded
        names = [n for n in COLUMNS if n != "assignees"]
        values = {n: _value(row, n, self._code, self.usernames.__getitem__) for n in names}
        values["assignees"] = {self._code(a): self.usernames[u] for a, u in assignees.items()}
        values["fields"] = dict(row.fields or {})
        return values


class _Absent:
    def __repr__(self) -> str:
        return "absent"


_ABSENT: Final = _Absent()


@dataclass
class Replay:
    """What a history, folded event by event (:meth:`apply`), says the row holds: each
    known column with the event that set it; the known fields likewise, and whether the
    fields not named are known to be absent (``whole``) but for those named ``unknown``."""

    columns: dict[str, tuple[Any, int]] = field(default_factory=dict)
    fields: dict[str, tuple[Any, int]] = field(default_factory=dict)
    whole: bool = False
    whole_since: int = 0
    unknown: set[str] = field(default_factory=set)
    assignments: list[tuple[str, Any, int]] = field(default_factory=list)

    def apply(self, seq: int, kind: str, data: Mapping[str, Any]) -> None:
        row = data.get(ROW)
        if isinstance(row, dict):
            self._apply_row(seq, row)
        else:
            self._apply_legacy(seq, kind, data)

    def _apply_row(self, seq: int, row: Mapping[str, Any]) -> None:
        for name, value in row.items():
            if name == "fields":
                self.fields = {k: (v, seq) for k, v in value.items()}
                self.whole, self.whole_since, self.unknown = True, seq, set()
            elif name == "fields_set":
                for k, v in value.items():
                    self.fields[k] = (v, seq)
                    self.unknown.discard(k)
            elif name == "fields_removed":
                for k in value:
                    self.fields[k] = (_ABSENT, seq)
                    self.unknown.discard(k)
            elif name == "assignees":
                self.assignments.append((_ALL, value, seq))
            elif name == "assigned":
                self.assignments.append((_SET, value, seq))
            elif name == "assignee":
                self.assignments.append((_ONE, value, seq))
            else:
                if name == "executing":
                    before = self.columns.get(name, (None, 0))[0]
                    if before is not None and before != value:
                        self.assignments.append((_DROP, before, seq))
                self.columns[name] = (value, seq)

    def _forget_field(self, name: str) -> None:
        self.fields.pop(name, None)
        if self.whole:
            self.unknown.add(name)

    def _apply_legacy(self, seq: int, kind: str, data: Mapping[str, Any]) -> None:
        if kind == EventKind.CREATED:
            name, _, version = str(data.get("workflow", "")).rpartition(".v")
            self.columns = {"state": (data.get("state"), seq)}
            if name and version.isdecimal():
                self.columns |= {"kind": (name, seq), "workflow_version": (int(version), seq)}
            for column in ("executing", "closed_at", "outcome"):
                self.columns[column] = (None, seq)
            self.assignments.append((_ALL, {}, seq))
            self.fields, self.whole, self.unknown = {}, False, set()
        elif kind == EventKind.TRANSITION:
            self.columns["state"] = (data.get("to"), seq)
            for column in ("holder", "transmitted_at", "closed_at", "outcome"):
                self.columns.pop(column, None)
            if data.get("inputs"):  # may have set the executing authority and fields
                self.columns.pop("executing", None)
                self.fields, self.whole, self.unknown = {}, False, set()
        elif kind == EventKind.FIELDS_CHANGED:
            for name in data.get("fields", []):
                self.columns.pop(name, None)
                self._forget_field(name)
        elif kind == EventKind.ASSIGNED:
            self.assignments.append((_ONE, data.get("to"), seq))

    @property
    def partial(self) -> bool:
        """Whether the history leaves some of the row unknown (older events)."""
        known = set(self.columns) | ({"assignees"} if self._assignees_known() else set())
        return not self.whole or bool(self.unknown) or set(COLUMNS) - known != set()

    def _assignees_known(self) -> bool:
        return any(op in (_ALL, _ONE) for op, _v, _s in self.assignments)

    def assignees(
        self, authority_of: Callable[[str], str | None]
    ) -> dict[str, tuple[str | None, int]]:
        """What the history says each party authority's assignee is (code -> username or
        None, with the event that said it); ``authority_of`` gives a username's authority,
        for the assignments made when a request had one assignee."""
        expected: dict[str, tuple[str | None, int]] = {}
        for op, value, seq in self.assignments:
            if op == _ALL:
                expected = {code: (user, seq) for code, user in value.items()}
            elif op == _ONE:
                expected = {} if value is None else {authority_of(value) or "?": (value, seq)}
            elif op == _SET:
                expected |= {code: (user, seq) for code, user in value.items()}
            else:
                expected.pop(value, None)
        return expected

    def _assignee_difference(
        self, observed: Mapping[str, Any], authority_of: Callable[[str], str | None]
    ) -> tuple[int, str] | None:
        expected = self.assignees(authority_of)
        found: Mapping[str, str] = observed["assignees"]
        since = max((s for op, _v, s in self.assignments if op in (_ALL, _ONE)), default=0)
        codes = set(expected) | (set(found) if self._assignees_known() else set())
        for code in sorted(codes):
            user, seq = expected.get(code, (None, since))
            if found.get(code) != user:
                return seq, (
                    f"set the assignee of {code} to {user!r}, "
                    f"but the request row has {found.get(code)!r}"
                )
        return None

    def difference(
        self, observed: Mapping[str, Any], authority_of: Callable[[str], str | None]
    ) -> tuple[int, str] | None:
        """The first column or field of ``observed`` (see :meth:`Names.observed`) that is not
        what the history says, as (the event that set it, what differs); None if all agree.
        ``authority_of``: see :meth:`assignees`."""
        for name in COLUMNS:
            if name == "assignees":
                differs = self._assignee_difference(observed, authority_of)
                if differs is not None:
                    return differs
            elif name in self.columns:
                expected, seq = self.columns[name]
                if observed[name] != expected:
                    label = _LABELS.get(name, name.replace("_", " "))
                    return seq, (
                        f"set the {label} to {expected!r}, "
                        f"but the request row has {observed[name]!r}"
                    )
        fields = observed["fields"]
        for name, (expected, seq) in sorted(self.fields.items()):
            found = fields.get(name, _ABSENT)
            if found != expected:
                said = "removed" if expected is _ABSENT else f"set to {expected!r}"
                has = "does not have it" if found is _ABSENT else f"has {found!r}"
                return seq, f"field {name!r} {said}, but the request row {has}"
        if self.whole:
            for name in sorted(set(fields) - set(self.fields) - self.unknown):
                return self.whole_since, (
                    f"the request row has field {name!r}, which its history never set"
                )
        return None
