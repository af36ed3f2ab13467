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
    """``template`` translated by ``translate`` and filled with ``params``; a parameter that
    is itself a :class:`Message` (a guard's reason inside a refusal) or a :class:`Label` (a
    step's name) is rendered the same way.
    """
    text = translate(template)
    if not params:
        return text
    return text % {k: v.render(translate) if isinstance(v, Message | Label) else v
                   for k, v in params.items()}  # fmt: skip


class Label(str):
    """A name the workflow definitions give in each language (a step's, a deadline's), as a
    message's parameter: as a ``str`` its English, which the API's ``detail`` and the CLI
    say; rendered in the reader's language by the boundary's translate function
    (:func:`translator`) from the definition's own words, since the catalogue does not hold
    them."""

    labels: Mapping[str, str]

    def __new__(cls, labels: Mapping[str, str]) -> Label:
        obj = super().__new__(cls, labels["en"])
        obj.labels = dict(labels)
        return obj

    def __reduce__(self) -> tuple[Any, ...]:
        return (Label, (self.labels,))

    def render(self, translate: Callable[[str], str]) -> str:
        return translate(self)


def translator(gettext: Callable[[str], str], lang: str) -> Callable[[str], str]:
    """The translate function of a boundary that speaks ``lang``: a message id through
    ``gettext`` (the empty id stays empty: gettext would answer the catalogue's header), a
    :class:`Label` in ``lang`` from its own words (English when it has none in ``lang``)."""

    def translate(text: str) -> str:
        if isinstance(text, Label):
            return text.labels.get(lang) or text.labels["en"]
        return gettext(text) if text else text

    return translate


class Message(str):
    """A message a person reads, kept as its English template and parameters so that the
    boundary can render it in the reader's language; as a ``str`` it is the filled English
    text, so code that only passes it on (a guard's reason, an API field) need not care."""

    template: str
    params: Mapping[str, Any]

    def __new__(cls, template: str, params: Mapping[str, Any] | None = None) -> Message:
        params = dict(params or {})
        obj = super().__new__(cls, render(template, params, str))
        obj.template = template
        obj.params = params
        return obj

    def render(self, translate: Callable[[str], str]) -> str:
        return render(self.template, self.params, translate)

    @staticmethod
    def joined(parts: list[Message], sep: str = "; ") -> Message:
        """Several messages read as one (``sep`` is not translated)."""
        if len(parts) == 1:
            return parts[0]
        names = {f"m{i}": m for i, m in enumerate(parts)}
        return Message(sep.join(f"%({n})s" for n in names), names)


def as_message(text: str) -> Message:
    """``text`` as a :class:`Message`: itself if it is one, else an untranslated text."""
    return text if isinstance(text, Message) else Message("%(text)s", {"text": text})


@dataclass(frozen=True)
class FieldError:
    """One field's error: ``message`` is the English template (``N_``), ``params`` fills it,
    ``code`` names it for API clients (``required``, ``invalid``, ...). A :class:`Message`
    given as ``message`` brings its own template and parameters."""

    field: str
    message: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict, hash=False)
    code: str = "invalid"

    def __post_init__(self) -> None:
        given = self.message
        if isinstance(given, Message) and not self.params:
            object.__setattr__(self, "params", given.params)
            object.__setattr__(self, "message", given.template)

    @property
    def text(self) -> str:
        """The English message, filled."""
        return render(self.message, self.params, str)

    def render(self, translate: Callable[[str], str]) -> str:
        return render(self.message, self.params, translate)


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
    """Base of every error a service raises on purpose.

    ``code`` is stable for API clients: the class's (``conflict``, ``not_found``, ...)
    unless the raise site names a more specific one (``version_conflict``)."""

    status = 400
    title = "Bad request"
    code = "bad_request"

    def __init__(
        self, message: str, params: Mapping[str, Any] | None = None, *, code: str | None = None
    ) -> None:
        if isinstance(message, Message) and not params:
            params = message.params
            message = message.template
        self.template = message
        self.params: Mapping[str, Any] = params or {}
        self.message = render(message, self.params, str)
        if code is not None:
            self.code = code
        super().__init__(self.message)

    def render(self, translate: Callable[[str], str]) -> str:
        """The message in the language ``translate`` gives."""
        return render(self.template, self.params, translate)


class Invalid(MLAError):
    """Input does not satisfy the rules; ``errors`` names each offending field."""

    status = 422
    title = "Invalid input"
    code = "invalid"

    def __init__(
        self,
        errors: list[FieldError] | FieldError | str,
        message: str | None = None,
        *,
        code: str | None = None,
    ):
        if isinstance(errors, str):
            errors = [FieldError("", errors)]
        elif isinstance(errors, FieldError):
            errors = [errors]
        self.errors = errors
        if message is None:
            parts = {f"e{i}": Message(e.message, e.params) for i, e in enumerate(errors)}
            template = "; ".join(
                f"{e.field.replace('%', '%%')}: %(e{i})s" if e.field else f"%(e{i})s"
                for i, e in enumerate(errors)
            )
            super().__init__(template, parts, code=code)
        else:
            super().__init__(message, code=code)


class Incomplete(Invalid):
    """Valid as far as it goes, but lacking what the next step needs (e.g. submitting a
    request): ``errors`` names each missing or wrong field."""

    code = "incomplete"


class TooLarge(Invalid):
    """Input is larger than its limit allows (an upload, as the stream crosses it);
    ``limit`` is that limit in bytes when one number says it."""

    status = 413
    title = "Content too large"
    code = "too_large"

    def __init__(
        self, errors: list[FieldError] | FieldError | str, *, limit: int | None = None
    ) -> None:
        super().__init__(errors)
        self.limit = limit


class Malformed(Invalid):
    """A body that cannot be parsed at all (a cut or garbled multipart body)."""

    status = 400
    title = "Malformed body"
    code = "malformed"


class NotFound(MLAError):
    """The thing does not exist, or the caller may not know that it does."""

    status = 404
    title = "Not found"
    code = "not_found"


class NotAllowed(MLAError):
    """The caller is known but may not do this."""

    status = 403
    title = "Forbidden"
    code = "not_allowed"


class Conflict(MLAError):
    """The action cannot happen now: another change won, or the state does not permit it."""

    status = 409
    title = "Conflict"
    code = "conflict"


class IntegrityError(MLAError):
    """Stored data failed an integrity check (hash chain, evidence digest or tag)."""

    status = 500
    title = "Integrity check failed"
    code = "integrity"


class ConfigError(MLAError):
    """A setting is missing or malformed; the process cannot start. For the operator, in
    English: its messages are not in the catalogue."""

    code = "config"
