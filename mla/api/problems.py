"""RFC 9457 problem details: every error under /api/v1 leaves as ``application/problem+json``.

Domain exceptions (:mod:`mla.errors`) are mapped here once; so are Werkzeug's HTTP errors
(404 for an unknown path, 405, 413, 415) and anything unexpected, which becomes a 500 whose
body says nothing about the code (the traceback goes to the log).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Response, json
from flask import request as http_request
from werkzeug.exceptions import HTTPException

from mla.errors import FieldError, Invalid, MLAError

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
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    errors: Iterable[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": http_request.path,
    }
    errors = list(errors)
    if errors or status == 422:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers.update(dict(headers or {}))
    return response


def from_exception(exc: BaseException) -> Response:
    """The problem response for ``exc``; never leaks a traceback or internal detail."""
    if isinstance(exc, ApiProblem):
        return problem(exc.status, exc.title, exc.detail, errors=exc.errors, headers=exc.headers)
    if isinstance(exc, Invalid):
        return problem(exc.status, exc.title, exc.message, errors=exc.errors)
    if isinstance(exc, MLAError) and exc.status < 500:
        return problem(exc.status, exc.title, exc.message)
    if isinstance(exc, HTTPException) and exc.code is not None and exc.code < 500:
        headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
        return problem(exc.code, exc.name, exc.description or exc.name, headers=headers)
    log.exception("unhandled error on %s %s", http_request.method, http_request.path)
    return problem(500, "Internal server error", "the server failed; the error was logged")
