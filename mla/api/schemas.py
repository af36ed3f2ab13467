"""The API's request and response bodies, as pydantic models.

The same models validate what comes in (strict: no type coercion, unknown fields rejected)
and describe what goes out, and :mod:`mla.api.openapi` renders their JSON Schema into the
OpenAPI document, so the documentation cannot drift from the code. Here: the bases, errors, the
directory and workflows, attachments and subscriptions; a request's own bodies (creating one,
firing an event, its list and its status) are in :mod:`mla.api.request_schemas`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CODE = Field(min_length=1, max_length=64)


def optional(**kwargs: Any) -> Any:
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
    choices: list[ChoiceOut] | None = optional()
    required_under: list[str] | None = optional(
        description="the legal bases under which it is required (it applies under no other)"
    )
    required_in: list[str] = Field(
        default_factory=list,
        description="checkpoints whose own guard requires it (e.g. provisional_arrest); "
        "each transition's requires says which event asks for what",
    )
    bases: list[str] | None = optional(
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
    choices: list[ChoiceOut] | None = optional(
        description="the codes accepted; for refusal grounds, those of the request's basis"
    )
    to_field: str | None = optional(description=TO_FIELD)


class RequirementOut(Out):
    """A request field a transition's guards require before it can fire."""

    field: str
    bases: list[str] | None = optional(
        description="required only under these legal bases (absent: under every basis)"
    )
    unless: dict[str, list[str]] | None = optional(
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
