"""The API's request and response bodies, as pydantic models.

The same models validate what comes in (strict: no type coercion, unknown fields rejected)
and describe what goes out, and :mod:`mla.api.openapi` renders their JSON Schema into the
OpenAPI document, so the documentation cannot drift from the code.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

CODE = Field(min_length=1, max_length=64)


def _optional(**kwargs: Any) -> Any:
    """A field left out of the output when it does not apply (``choices?`` in the contract)."""
    return Field(default=None, exclude_if=lambda v: v is None, **kwargs)


class In(BaseModel):
    """Base of request bodies: strict types, unknown fields are an error."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


# --- errors ---------------------------------------------------------------------------------


class FieldProblem(Out):
    field: str = Field(description="the offending field, dotted (e.g. fields.subject)")
    message: str = Field(description="in English")
    code: str = Field(description="stable: required, invalid")
    localized_message: str | None = Field(
        default=None, description="in the language of Accept-Language (es, fr or pt)"
    )


class Problem(Out):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = Field(description="in English")
    instance: str | None = None
    code: str = Field(
        description="stable identifier of the error: not_found, not_allowed, conflict, "
        "version_conflict, not_in_state, blocked, invalid, incomplete, too_large, malformed, "
        "unauthorized, rate_limited, ..."
    )
    errors: list[FieldProblem] | None = Field(
        default=None, description="each invalid or missing field (422)"
    )
    language: str | None = Field(
        default=None, description="es, fr or pt when Accept-Language prefers one of them"
    )
    localized_detail: str | None = Field(
        default=None, description="detail in that language (domain errors)"
    )


# --- directory and workflows -----------------------------------------------------------------


class AuthorityOut(Out):
    code: str
    country: str = Field(description="ISO 3166-1 alpha-2")
    name: str
    kind: Literal["central", "executing"]
    parent: str | None = Field(description="code of the central authority it belongs to")
    languages: list[str] = Field(description="languages in which it accepts requests (18.14)")
    timezone: str
    contact_points: list[dict[str, Any]]
    external: bool = Field(description="not on mla: its steps are recorded on its behalf")


class AuthorityList(Out):
    items: list[AuthorityOut]


class TreatyOut(Out):
    code: str = Field(description="what a request on the bilateral basis names in 'treaty'")
    name: str
    states: list[str] = Field(description="the two parties, ISO 3166-1 alpha-2")
    figures: dict[str, int] = Field(description="its deadline figures, over the basis defaults")
    reference: str | None


class TreatyList(Out):
    items: list[TreatyOut]


class ChoiceOut(Out):
    code: str
    label: str


class FieldOut(Out):
    name: str
    type: str = Field(
        description="language: a code among the requested authority's languages; "
        "treaty: a code from GET /treaties"
    )
    required: bool = Field(
        description="required under every legal basis; see required_under for a field "
        "required under some bases only (e.g. treaty under bilateral)"
    )
    label: str
    choices: list[ChoiceOut] | None = _optional()
    required_under: list[str] | None = _optional(
        description="the legal bases under which it is required (it applies under no other)"
    )
    required_in: list[str] = Field(
        default_factory=list,
        description="checkpoints whose own guard requires it (e.g. provisional_arrest); "
        "each transition's requires says which event asks for what",
    )
    bases: list[str] | None = _optional(
        description="the field applies (and is required) only under these legal bases"
    )


class DeadlineDef(Out):
    name: str
    label: str
    within: str = Field(description="e.g. '30 business days' or 'decide_days business days'")
    anchor: str


class StateOut(Out):
    name: str
    owner: Literal["requesting", "requested", "executing"]
    final: bool
    label: str
    kind: str | None
    deadlines: list[DeadlineDef]


TO_FIELD = "the request field the value is stored in; it counts for the event's own guards"


class InputOut(Out):
    name: str
    type: str
    required: bool
    label: str
    choices: list[ChoiceOut] | None = _optional(
        description="the codes accepted; for refusal grounds, those of the request's basis"
    )
    to_field: str | None = _optional(description=TO_FIELD)


class RequirementOut(Out):
    """A request field a transition's guards require before it can fire."""

    field: str
    bases: list[str] | None = _optional(
        description="required only under these legal bases (absent: under every basis)"
    )
    unless: dict[str, list[str]] | None = _optional(
        description="not required when every value of the named field is among these codes"
    )


class TransitionOut(Out):
    event: str
    label: str
    sources: list[str]
    dest: str | None = Field(description="null: the request stays in its state")
    by: Literal["requesting", "requested", "executing"]
    roles: list[str]
    inputs: list[InputOut]
    requires: list[RequirementOut] = Field(
        description="the request fields its guards require: fill them while the request may "
        "still be edited, or give them as an input whose to_field names them"
    )


class LegalBasisOut(Out):
    code: str
    label: str
    refusal_grounds: list[ChoiceOut]


class WorkflowOut(Out):
    name: str
    version: int
    label: str
    initial: str
    fields: list[FieldOut]
    states: list[StateOut]
    transitions: list[TransitionOut]
    legal_bases: list[LegalBasisOut]


class WorkflowList(Out):
    items: list[WorkflowOut]


class WorkflowQuery(BaseModel):
    version: int | None = Field(default=None, ge=1, description="default: the newest")


# --- requests -------------------------------------------------------------------------------


class CreateRequest(In):
    """A new request; the caller's authority is the requesting authority."""

    kind: str = Field(min_length=1, max_length=32, description="a workflow name, e.g. mla")
    requested_authority: str = Field(min_length=1, max_length=32, description="authority code")
    legal_basis: str = Field(min_length=1, max_length=32, description="e.g. untoc-18")
    urgency: Literal["normal", "urgent"] = "normal"
    needed_by: date | None = Field(default=None, description="date assistance is needed by")
    needed_by_reason: str | None = Field(default=None, max_length=4000)
    their_reference: str | None = Field(default=None, max_length=100)
    confidential: bool = False
    offence_categories: list[str] = Field(
        default_factory=list,
        description="offence categories, several allowed: trafficking_in_persons, "
        "smuggling_of_migrants, firearms_trafficking, drug_trafficking, money_laundering, "
        "corruption, kidnapping, cybercrime, terrorism, other",
    )
    fields: dict[str, Any] = Field(
        default_factory=dict,
        description="the request's contents: each field of GET /workflows/{name} by name "
        "(see the examples, one per workflow)",
    )
    transmit: bool = Field(
        default=False,
        description="true: create and send it to the requested authority in one call, all or "
        "nothing: the workflow's steps from the draft to the requested side (mla: "
        "submit_for_review, sign, transmit; extradition: transmit_formal_request; assets: "
        "request_freeze) are taken in the same transaction, each with the token's role. A "
        "step the role may not take (signing needs a token issued with --role supervisor) "
        "is 403, an incomplete request 422, and then nothing is created",
    )
    requesting_authority: str | None = Field(
        default=None,
        max_length=32,
        description="only when recording an external authority's request on its behalf",
    )
    received_on: date | None = Field(
        default=None,
        description="external authority's request: the date it was received (not in the future)",
    )
    channel: Literal["diplomatic_note", "email", "courier", "interpol", "post"] | None = Field(
        default=None, description="external authority's request: how it arrived"
    )
    received_as: str | None = Field(
        default=None,
        max_length=64,
        description="external authority's request: the state it starts in, one a "
        "transmission reaches (default the first, e.g. received)",
    )


class FireEvent(In):
    event: str = Field(min_length=1, max_length=64)
    inputs: dict[str, Any] = Field(
        default_factory=dict, description="inputs naming an authority take its code"
    )
    comment: str | None = Field(default=None, max_length=4000)


class RequestListQuery(BaseModel):
    state: str | None = Field(default=None, max_length=64)
    kind: str | None = Field(default=None, max_length=32)
    updated_since: AwareDatetime | None = Field(
        default=None, description="ISO 8601 with a UTC offset"
    )
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(
        default=None, max_length=200, description="next_cursor of the previous page"
    )


class RequestSummary(Out):
    reference: str
    their_reference: str | None
    kind: str
    state: str
    state_label: str
    holder: str = Field(description="code of the authority holding the request now")
    requesting_authority: str
    requested_authority: str
    executing_authority: str | None
    urgency: Literal["normal", "urgent"]
    confidential: bool
    needed_by: date | None
    created_at: datetime
    updated_at: datetime = Field(description="last change of state or contents (not reads)")
    closed_at: datetime | None
    outcome: str | None


class RequestPage(Out):
    items: list[RequestSummary]
    next_cursor: str | None


class DeadlineOut(Out):
    name: str
    label: str
    due_at: datetime
    authority: str = Field(
        description="code of the authority that must meet it; its calendar counts the days"
    )
    status: Literal["met", "missed", "cancelled", "paused", "overdue", "running"]


class HistoryEntry(Out):
    at: datetime
    event: str
    from_: str = Field(alias="from")
    to: str
    by: str | None = Field(description="code of the authority that acted")
    party: str
    recorded_by: str | None = _optional(
        description="code of the authority that recorded this step on behalf of 'by', an "
        "external authority (not on mla)"
    )


class EventInputOut(Out):
    name: str
    type: str
    required: bool
    label: str
    choices: list[ChoiceOut] | None = _optional()
    to_field: str | None = _optional(description=TO_FIELD)


class AvailableEvent(Out):
    event: str
    label: str
    allowed: bool
    reason: str | None = Field(description="why it is not allowed now (role or guard)")
    inputs: list[EventInputOut]
    missing: list[str] = Field(
        description="fields its guards require that the request lacks now and its inputs do "
        "not supply: add them to the request before firing it"
    )


class EstimateOut(Out):
    basis: Literal["counterpart", "kind", "none"] = Field(
        description="counterpart: comparable closed requests to the same requested authority; "
        "kind: of the same kind overall; none: not enough history (no dates)"
    )
    sample: int = Field(description="how many closed requests the estimate rests on")
    since: datetime = Field(description="when the request entered its current state")
    p50: datetime | None = Field(description="half of comparable requests were done by then")
    p90: datetime | None = Field(description="nine in ten comparable requests were done by then")


class RequestStatus(RequestSummary):
    version: int = Field(description="changes with every change of the request; see If-Match")
    legal_basis: str
    needed_by_reason: str | None
    fields: dict[str, Any] = Field(
        description="the request's contents, by the names of GET /workflows/{name}. Only the "
        "request's parties read a request at all (anyone else gets 404); a confidential "
        "request's contents (18.20) travel nowhere else, not even in webhooks"
    )
    offence_categories: list[str]
    estimate: EstimateOut | None = Field(
        description="when the request will likely be done (null once closed)"
    )
    deadlines: list[DeadlineOut]
    history: list[HistoryEntry] = Field(description="state changes only: who, when, from, to")
    available_events: list[AvailableEvent]


# --- attachments and subscriptions -------------------------------------------------------------


class AttachmentOut(Out):
    id: int
    filename: str
    size: int
    sha256: str
    media_type: str
    created_at: datetime


class AttachmentList(Out):
    items: list[AttachmentOut]


class SubscriptionIn(In):
    url: str = Field(min_length=1, max_length=2048, description="http(s) URL to POST events to")
    events: list[str] | None = Field(default=None, description="event types wanted; null: all")


class SubscriptionOut(Out):
    id: int
    url: str
    events: list[str] | None
    created_at: datetime
    active: bool


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="signing secret for X-MLA-Signature; shown only once")


class SubscriptionList(Out):
    items: list[SubscriptionOut]
