"""Cookies, CSRF tokens and response headers of the web UI.

CSRF: one random token per session, required on every state-changing request to the web
blueprint (form field ``csrf_token`` or header ``X-CSRF-Token`` for the upload script) and
compared in constant time. Every response carries the security headers below (HSTS over
https). The session cookie is HttpOnly and SameSite=Lax, and Secure when
the UI is served over https (``MLA_BASE_URL``).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from flask import Flask, Response, abort, request, session

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


def check_csrf() -> None:
    """Abort with 400 when a state-changing request lacks the session's token."""
    if request.method in SAFE_METHODS:
        return
    expected = session.get(CSRF_FIELD)
    given = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    # As bytes: compare_digest refuses str with non-ASCII characters, and a forged token
    # may well have some.
    if not expected or not hmac.compare_digest(str(expected).encode(), given.encode()):
        abort(400, description="csrf")


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
