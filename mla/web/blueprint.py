"""The clerks' web UI: server-rendered Flask + Jinja over the services.

Views parse input, call one service and render; no query, business rule or commit lives
here (queries: :mod:`mla.requests.queries`; sign-in rules: :mod:`mla.authorities.signin`). Every
view goes through :mod:`mla.web.boundary`: sign-in (every page but sign-in and
``/healthz``), the CSRF token on every POST, the body cap, one unit of work and the mapping of
domain errors. Every response carries the security headers of :mod:`mla.web.security`.
"""

from __future__ import annotations

from typing import cast

from flask import Blueprint, Flask, Response, jsonify
from flask.blueprints import BlueprintSetupState
from sqlalchemy import text

from mla.db import get_session
from mla.web import assets

# Static files are served by :mod:`mla.web.assets` (fingerprinted, gzipped, cached), not by
# Flask's own static view.
bp = Blueprint("web", __name__, template_folder="templates")
bp.url_defaults(assets.fingerprint)


@bp.get("/assets/<path:filename>", endpoint="static")
def static_file(filename: str) -> Response:
    # Outside the boundary on purpose: public files, no session, no database.
    return assets.send(filename)


# Browsers ask for this name on every page whatever the page links to.
bp.add_url_rule("/favicon.ico", "static", static_file, defaults={"filename": "favicon.ico"})


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    from mla.web import i18n, security
    from mla.web.views.common import party_label

    app = cast(Flask, state.app)  # a Flask app registers this blueprint, never a bare App
    security.configure_cookies(app)
    i18n.init_app(app)
    app.jinja_env.globals["csrf_token"] = security.csrf_token
    app.jinja_env.globals["party_label"] = party_label


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    # Outside the boundary on purpose: a GET that reads one constant, with no body and no
    # user, for load balancers.
    get_session().execute(text("SELECT 1"))
    return jsonify(status="ok")
