"""A request's bodies in the API: creating one, firing an event on it, its list and its status
(deadlines, history, the events open to the caller, the estimate). The bases and the shapes
shared with the workflow definitions are in :mod:`mla.api.schemas`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from mla.api.schemas import TO_FIELD, ChoiceOut, In, Out, optional


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
    recorded_by: str | None = optional(
        description="code of the authority that recorded this step on behalf of 'by', an "
        "external authority (not on mla)"
    )


class EventInputOut(Out):
    name: str
    type: str
    required: bool
    label: str
    choices: list[ChoiceOut] | None = optional()
    to_field: str | None = optional(description=TO_FIELD)


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
