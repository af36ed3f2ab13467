"""How an API operation is declared: one decorator gives Flask its route and OpenAPI its
description, so that every route is documented and every documented route exists.

The wrapper is the HTTP boundary: it authenticates the bearer token, applies the rate limit
and the token's scope, begins the unit of work as one that may write when the operation
writes (any method but GET, or a GET declared ``writes``; an upload takes its lock after
streaming), runs the view, commits once (or rolls back on any error) and then runs what the
view deferred until after the commit.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, g
from flask import request as http_request
from pydantic import BaseModel, ValidationError

from mla.api.problems import ApiProblem
from mla.api.ratelimit import TokenBuckets
from mla.authorities import tokens
from mla.db import begin_write, get_session, utcnow
from mla.errors import N_, FieldError, Invalid, has_nul
from mla.requests.service import Actor

MAX_JSON_BYTES = 256 * 1024
JSON = "application/json"
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Operation:
    """One documented operation. ``responses`` maps a success status to its body model
    (None: no body; ``"binary"``: a file)."""

    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    responses: dict[int, type[BaseModel] | str | None]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    scope: str | None = None
    auth: bool = True
    multipart: bool = False  # an upload: streamed first, the write lock taken by the service
    writes: bool = False  # a GET that writes (a download records its custody event)
    headers: tuple[tuple[str, str], ...] = ()  # (request header, description)
    response_headers: dict[str, str] = field(default_factory=dict)
    description: str = ""
    examples: dict[str, Any] = field(default_factory=dict)  # named request body examples


OPERATIONS: list[Operation] = []


def _flask_rule(path: str) -> str:
    return re.sub(r"\{(\w+)\}", r"<\1>", path)


def operation(bp: Blueprint, method: str, path: str, **kwargs: Any) -> Callable[..., Any]:
    """Register the decorated view at ``path`` (OpenAPI syntax) for ``method``."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        op = Operation(
            method=method.lower(),
            path=path,
            operation_id=view.__name__,
            description=(view.__doc__ or "").strip(),
            **kwargs,
        )
        OPERATIONS.append(op)

        @functools.wraps(view)
        def wrapped(**path_args: Any) -> Response:
            g.api_after_commit = []
            if op.auth:
                g.api_actor = authenticate(op.scope)
            session = get_session()
            if (op.method not in ("get", "head") and not op.multipart) or op.writes:
                # One unit of work that may write, begun as one: on SQLite a transaction that
                # read first cannot write once another writer has committed.
                begin_write(session)
            try:
                result: Response = view(**path_args)
                session.commit()
            except BaseException:
                session.rollback()
                raise
            for deferred in g.api_after_commit:
                deferred()
            return result

        bp.add_url_rule(_flask_rule(path), view.__name__, wrapped, methods=[method.upper()])
        return wrapped

    return decorate


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the view's unit of work has committed (side writes, e.g. the
    audit of a read, that must not hold the main transaction open or fail it)."""
    g.api_after_commit.append(callback)


def actor() -> Actor:
    return g.api_actor  # type: ignore[no-any-return]


def authenticate(scope: str | None) -> Actor:
    """The caller from ``Authorization: Bearer``; 401, 403 (scope) or 429 otherwise."""
    header = http_request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiProblem(
            401,
            "Unauthorized",
            "send Authorization: Bearer <token> (from mla tokens create)",
            headers={"WWW-Authenticate": 'Bearer realm="mla"'},
        )
    session = get_session()
    token = tokens.authenticate(session, secret.strip())
    if token is None:
        session.rollback()
        raise ApiProblem(
            401,
            "Unauthorized",
            "the token is unknown, expired or revoked",
            headers={"WWW-Authenticate": 'Bearer realm="mla", error="invalid_token"'},
        )
    if token in session.dirty:
        # Its last use (noted at most once a minute), in a transaction of its own that writes
        # first: the view must start on a clean session, and SQLite cannot turn a transaction
        # that has read into one that writes once another writer has committed.
        token_id, used_at = token.id, token.last_used_at
        session.rollback()
        begin_write(session)
        tokens.touch(session, token_id, used_at or utcnow())
        session.commit()
    buckets: TokenBuckets = current_app.extensions["mla.api.ratelimit"]
    wait = buckets.take(token.id)
    if wait > 0:
        raise ApiProblem(
            429,
            "Too many requests",
            f"rate limit of {buckets.rate} for this token exceeded",
            headers={"Retry-After": buckets.retry_after(wait)},
        )
    if scope is not None and scope not in (token.scopes or []):
        raise ApiProblem(403, "Forbidden", f"this token lacks the {scope} scope")
    return Actor.for_token(token)


# --- input ----------------------------------------------------------------------------------

_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
}


def _field_errors(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    errors = []
    for err in exc.errors(include_url=False):
        name = ".".join(str(p) for p in err["loc"])
        message = _MESSAGES.get(err["type"], err["msg"])
        errors.append(FieldError(prefix + name, message))
    return errors


def json_body(model: type[M]) -> M:
    """The request body as ``model``: 415 if it is not JSON in UTF-8, 413 if larger than
    MAX_JSON_BYTES, 400 if malformed, 422 naming each wrong, missing or unknown field."""
    charset = http_request.mimetype_params.get("charset", "utf-8").lower()
    # JSON between systems is UTF-8 (RFC 8259 8.1); a body declared in another charset would
    # otherwise be read as UTF-8 and its text silently garbled.
    if http_request.mimetype != JSON or charset not in ("utf-8", "utf8"):
        raise ApiProblem(415, "Unsupported media type", f"send the body as {JSON} in UTF-8")
    length = http_request.content_length
    if length is not None and length > MAX_JSON_BYTES:
        raise ApiProblem(413, "Content too large", f"a JSON body may be {MAX_JSON_BYTES} bytes")
    raw = http_request.stream.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        raise ApiProblem(413, "Content too large", f"a JSON body may be {MAX_JSON_BYTES} bytes")
    try:
        parsed = model.model_validate_json(raw)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise ApiProblem(400, "Malformed JSON", "the body is not valid JSON") from None
        raise Invalid(_field_errors(exc)) from None
    if has_nul(parsed.model_dump()):
        raise Invalid(FieldError("body", N_("text must not contain NUL characters")))
    return parsed


def query_args(model: type[M]) -> M:
    """The query string as ``model``; 422 naming each bad parameter."""
    args = http_request.args.to_dict()
    for name, value in args.items():
        if has_nul(value):
            raise Invalid(FieldError(name, N_("must not contain NUL characters")))
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        raise Invalid(_field_errors(exc)) from None
