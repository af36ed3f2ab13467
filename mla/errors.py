"""Domain exceptions raised by services, mapped once to HTTP, forms and CLI exit codes.

Messages are English templates marked with :func:`N_` and filled from ``params``
(``N_("must be at most %(limit)s characters")``, ``{"limit": 200}``): services never
translate; the web boundary renders them in the user's language (``gettext`` of the
template, then the parameters), the API keeps the English text as ``detail`` beside a
stable ``code``, and the CLI prints the English.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


def N_(message: str) -> str:
    """Mark ``message`` for extraction into the translation catalogue (``pybabel -k N_``)
    without translating it: the boundary translates it in the reader's language."""
    return message


def render(template: str, params: Mapping[str, Any], translate: Callable[[str], str]) -> str:
    """``template`` translated by ``translate`` and filled with ``params``."""
    text = translate(template)
    return text % dict(params) if params else text


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict, hash=False)

    @property
    def text(self) -> str:
        """The English message, filled."""
        return render(self.message, self.params, str)


def has_nul(value: object) -> bool:
    """Whether a NUL character hides anywhere in ``value`` (strings, lists, dicts): no text
    column or JSON document can store one (PostgreSQL refuses), so input carrying one is
    rejected at the door instead of failing in the database."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


class MLAError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400
    title = "Bad request"

    def __init__(self, message: str, params: Mapping[str, Any] | None = None) -> None:
        self.template = message
        self.params: Mapping[str, Any] = params or {}
        self.message = render(message, self.params, str)
        super().__init__(self.message)


class Invalid(MLAError):
    """Input does not satisfy the rules; ``errors`` names each offending field."""

    status = 422
    title = "Invalid input"

    def __init__(self, errors: list[FieldError] | FieldError | str, message: str | None = None):
        if isinstance(errors, str):
            errors = [FieldError("", errors)]
        elif isinstance(errors, FieldError):
            errors = [errors]
        self.errors = errors
        text = message or "; ".join(f"{e.field}: {e.text}" if e.field else e.text for e in errors)
        super().__init__(text)


class Incomplete(Invalid):
    """Valid as far as it goes, but lacking what the next step needs (e.g. submitting a
    request): ``errors`` names each missing or wrong field."""


class TooLarge(Invalid):
    """Input is larger than its limit allows (an upload, as the stream crosses it);
    ``limit`` is that limit in bytes when one number says it."""

    status = 413
    title = "Content too large"

    def __init__(
        self, errors: list[FieldError] | FieldError | str, *, limit: int | None = None
    ) -> None:
        super().__init__(errors)
        self.limit = limit


class Malformed(Invalid):
    """A body that cannot be parsed at all (a cut or garbled multipart body)."""

    status = 400
    title = "Malformed body"


class NotFound(MLAError):
    """The thing does not exist, or the caller may not know that it does."""

    status = 404
    title = "Not found"


class NotAllowed(MLAError):
    """The caller is known but may not do this."""

    status = 403
    title = "Forbidden"


class Conflict(MLAError):
    """The action cannot happen now: another change won, or the state does not permit it."""

    status = 409
    title = "Conflict"


class IntegrityError(MLAError):
    """Stored data failed an integrity check (hash chain, evidence digest or tag)."""

    status = 500
    title = "Integrity check failed"


class ConfigError(MLAError):
    """A setting is missing or malformed; the process cannot start."""
