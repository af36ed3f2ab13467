"""Cookies, CSRF tokens and response headers of the web UI.

CSRF: one random token per session, required on every state-changing request to the web
blueprint (form field ``csrf_token`` or header ``X-CSRF-Token`` for the upload script) and
compared in constant time. A multipart body is never parsed here (Werkzeug would spool its
files to disk): only the evidence upload accepts one, and it reads the token from the header
or from the form field sent before the file. Every response carries the security headers
below (HSTS over https). The session cookie is HttpOnly and SameSite=Lax, and Secure when the
UI is served over https (``MLA_BASE_URL``).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from flask import Flask, Response, abort, current_app, g, request, session

V = TypeVar("V", bound=Callable[..., Any])

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# No inline script, no framing, nothing from another origin. Mermaid writes style attributes
# into the SVG it draws, hence 'unsafe-inline' for styles only (styles cannot run code).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# A year; only ever sent over https, where it means something. Not includeSubDomains: other
# services of the ministry may live under this host's name.
HSTS = "max-age=31536000"


def configure_cookies(app: Flask) -> None:
    """Session cookie settings; Secure whenever the public URL is https."""
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=str(app.config.get("MLA_BASE_URL", "")).startswith("https://"),
        SESSION_COOKIE_NAME="mla_session",
        # A working day and then some: clerks sign in once a day.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
    )


def csrf_token() -> str:
    """The session's CSRF token, created on first use."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return str(token)


def _compare(given: str) -> None:
    expected = session.get(CSRF_FIELD)
    # As bytes: compare_digest refuses str with non-ASCII characters, and a forged token
    # may well have some.
    if not expected or not hmac.compare_digest(str(expected).encode(), given.encode()):
        abort(400, description="csrf")


def streams_body(view: V) -> V:
    """Mark ``view`` as reading its own ``multipart/form-data`` body as a stream (evidence
    upload): :func:`check_csrf` then leaves the token of a body sent without the
    ``X-CSRF-Token`` header to the view, which must call :func:`check_csrf_in_body` before it
    acts. Every other view refuses multipart bodies."""
    view.streams_body = True  # type: ignore[attr-defined]
    return view


def is_multipart() -> bool:
    """Whether the body is multipart: reading ``request.form`` (or ``request.values``) would
    then spool its file parts, evidence in clear, to temporary files on disk."""
    return request.mimetype == "multipart/form-data"


def check_csrf() -> None:
    """Abort with 400 when a state-changing request lacks the session's token (415 for a
    multipart body to a view that does not stream it)."""
    if request.method in SAFE_METHODS:
        return
    if is_multipart():
        view = current_app.view_functions.get(request.endpoint or "")
        if not getattr(view, "streams_body", False):
            abort(415)
        if CSRF_HEADER not in request.headers:
            g.csrf_in_body = True  # the form field before the file: the view checks it
            return
        _compare(request.headers[CSRF_HEADER])
        return
    # The header first: a script's request is then not parsed here.
    _compare(request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or "")


def check_csrf_in_body(fields: Mapping[str, str]) -> None:
    """In a :func:`streams_body` view: abort with 400 unless the token came in the header
    (already checked) or in the form fields sent before the file."""
    if g.get("csrf_in_body"):
        _compare(fields.get(CSRF_FIELD, ""))


def add_headers(response: Response) -> Response:
    """The security headers, on every response of the application (pages, error pages, the
    API and its docs); HSTS when the request came over https. Behind a proxy that ends TLS,
    the server must be told to trust its X-Forwarded-Proto (gunicorn's
    ``--forwarded-allow-ips``) for the request to count as https."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "web.static":
        # Pages show case files: never keep them in a shared or browser cache.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
