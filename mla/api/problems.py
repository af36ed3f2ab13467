"""RFC 9457 problem details: every error under /api/v1 leaves as ``application/problem+json``.

Domain exceptions (:mod:`mla.errors`) are mapped here once; so are Werkzeug's HTTP errors
(404 for an unknown path, 405, 413, 415) and anything unexpected, which becomes a 500 whose
body says nothing about the code (the traceback goes to the log).

The body, beside RFC 9457's members:

- ``code``: a stable identifier of the error for programs to branch on (``not_found``,
  ``not_allowed``, ``conflict``, ``version_conflict``, ``not_in_state``, ``blocked``,
  ``invalid``, ``incomplete``, ``too_large``, ``malformed``, ``unauthorized``,
  ``rate_limited``, ...); ``detail`` stays English, whatever the request's language.
- ``errors`` (every 422, and wherever fields are named): ``field``, ``message`` (English)
  and ``code`` (``required``, ``invalid``) of each.
- When ``Accept-Language`` prefers Spanish, French or Portuguese: ``language`` (``es``,
  ``fr``, ``pt``), ``localized_detail``, each error's ``localized_message``, and the
  ``Content-Language`` header. English (or no preference) adds nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Response, json
from flask import request as http_request
from flask_babel import force_locale, gettext
from werkzeug.exceptions import HTTPException

from mla.errors import FieldError, Invalid, MLAError, render, translator

# The languages the catalogue has besides English.
LOCALIZED = ("es", "fr", "pt")
# Codes of the problems the API raises itself, by status.
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "not_allowed",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    428: "precondition_required",
    429: "rate_limited",
    500: "internal",
}

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


class ApiProblem(Exception):
    """An HTTP-level problem the API raises itself (auth, content type, body size, rate)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        errors: Iterable[FieldError] = (),
        headers: Mapping[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})
        self.code = code or STATUS_CODES.get(status, "error")


def _language() -> str | None:
    """The catalogue language ``Accept-Language`` prefers, or None for English."""
    best = http_request.accept_languages.best_match(("en", *LOCALIZED))
    return best if best in LOCALIZED else None


def _localize(template: str, params: Mapping[str, Any], language: str) -> str:
    with force_locale(language):
        return render(template, params, translator(lambda t: str(gettext(t)), language))


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    errors: Iterable[FieldError] = (),
    headers: Mapping[str, str] | None = None,
    code: str | None = None,
    source: MLAError | None = None,
) -> Response:
    """The problem response; ``source``, the domain error it reports, lets ``detail`` be
    given in the language ``Accept-Language`` asks for too (``localized_detail``)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": http_request.path,
        "code": code or STATUS_CODES.get(status, "error"),
    }
    errors = list(errors)
    if errors or status == 422:
        body["errors"] = [{"field": e.field, "message": e.text, "code": e.code} for e in errors]
    language = _language() if source is not None or errors else None
    if language is not None:
        body["language"] = language
        if source is not None:
            body["localized_detail"] = _localize(source.template, source.params, language)
        for out, e in zip(body.get("errors", []), errors, strict=True):
            out["localized_message"] = _localize(e.message, e.params, language)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers.update(dict(headers or {}))
    if language is not None:
        response.headers["Content-Language"] = language
    return response


def from_exception(exc: BaseException) -> Response:
    """The problem response for ``exc``; never leaks a traceback or internal detail."""
    if isinstance(exc, ApiProblem):
        return problem(
            exc.status,
            exc.title,
            exc.detail,
            errors=exc.errors,
            headers=exc.headers,
            code=exc.code,
        )
    if isinstance(exc, Invalid):
        return problem(
            exc.status, exc.title, exc.message, errors=exc.errors, code=exc.code, source=exc
        )
    if isinstance(exc, MLAError) and exc.status < 500:
        return problem(exc.status, exc.title, exc.message, code=exc.code, source=exc)
    if isinstance(exc, HTTPException) and exc.code is not None and exc.code < 500:
        headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
        return problem(exc.code, exc.name, exc.description or exc.name, headers=headers)
    log.exception("unhandled error on %s %s", http_request.method, http_request.path)
    return problem(500, "Internal server error", "the server failed; the error was logged")
