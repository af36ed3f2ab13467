"""The /api/v1 blueprint: its operations, its error mapping and its rate limiter.

``create_app`` registers :data:`bp`. Everything under /api/v1 answers errors as
``application/problem+json``, including unknown paths and methods (a catch-all route keeps
those inside this blueprint, so the web UI's HTML error pages never apply here).
"""

from __future__ import annotations

from flask import Response, current_app
from flask import request as http_request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from mla.api import assets, attachments, documents, openapi, statistics, subscriptions, views
from mla.api.cache import RecentReads, StatusCache
from mla.api.problems import from_exception
from mla.api.ratelimit import TokenBuckets

# Importing these modules registers their operations on the blueprint.
from mla.api.views import bp
from mla.config import parse_rate

__all__ = ["bp"]
_ = (assets, attachments, documents, openapi, statistics, subscriptions, views)


@bp.record_once
def _setup(state) -> None:  # type: ignore[no-untyped-def]
    rate = parse_rate(state.app.config.get("MLA_API_RATE", "120/minute"))
    state.app.extensions["mla.api.ratelimit"] = TokenBuckets(rate)
    state.app.extensions["mla.api.status_cache"] = StatusCache()
    state.app.extensions["mla.api.recent_reads"] = RecentReads()
    # A method no route under /api/v1 takes (TRACE, PROPFIND...) fails at routing, before
    # any blueprint is known, so only an application handler can answer it as a problem.
    state.app.register_error_handler(405, _unroutable_method)


def _unroutable_method(exc: MethodNotAllowed) -> Response | HTTPException:
    if http_request.path == bp.url_prefix or http_request.path.startswith(f"{bp.url_prefix}/"):
        return from_exception(exc)
    return exc


def _problem(exc: Exception) -> Response | HTTPException:
    if isinstance(exc, RequestRedirect):
        return exc
    return from_exception(exc)


# By code as well as by class: Flask prefers an application's handler for a code (the web
# UI's HTML pages) over a blueprint's handler for a class.
bp.register_error_handler(Exception, _problem)
for _code in (400, 401, 403, 404, 405, 406, 409, 410, 411, 412, 413, 415, 422, 429, 500):
    bp.register_error_handler(_code, _problem)


@bp.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def _unknown(rest: str) -> Response:
    # Werkzeug matched this catch-all because no operation takes this method here; tell a
    # wrong method (405 with Allow) from an unknown path (404).
    adapter = current_app.url_map.bind_to_environ(http_request.environ)
    allowed: set[str] = set()
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            endpoint, _args = adapter.match(method=method)
        except HTTPException:
            continue
        if endpoint != "api._unknown":
            allowed.add(method)
    if allowed:
        raise MethodNotAllowed(valid_methods=sorted(allowed))
    raise NotFound(f"no API operation at {http_request.path}")
