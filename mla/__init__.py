"""mla: a workflow engine for mutual legal assistance and extradition requests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from mla import config as _config
from mla.db import Database, RowIdConverter
from mla.workflow.definition import load_all
from mla.workflow.engine import Engines


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application from ``MLA_*`` settings; ``config`` overrides any of them.

    Raises :class:`mla.errors.ConfigError` with one line when a setting is malformed.
    """
    settings = _config.load(config)
    app = Flask(__name__, instance_path=str(settings["MLA_INSTANCE_DIR"]))
    app.config.update(settings, SECRET_KEY=settings["MLA_SECRET_KEY"])
    app.config["MAX_CONTENT_LENGTH"] = None  # evidence uploads enforce their own limit
    if settings["MLA_TRUSTED_PROXIES"]:
        # Sign-in throttling counts per client address: behind a load balancer every client
        # would otherwise share the balancer's address, and one guesser would slow everyone.
        hops = settings["MLA_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops)  # type: ignore[method-assign]

    Database(app)
    # An invalid workflow definition, or a dead end in the newest version of one, stops the
    # start: requests must never run on one.
    app.extensions["mla.engines"] = Engines(load_all(settings["MLA_WORKFLOWS_DIR"]))

    # A row id in a URL larger than the database can hold is a 404, not an overflow.
    app.url_map.converters["int"] = RowIdConverter

    from mla import app_services

    # What a step issues (its formal letters) is written in the step's own transaction.
    app.extensions["mla.after_step"] = [app_services.issue_documents]

    from mla.web import bp as web_bp

    app.register_blueprint(web_bp)

    from mla.api.blueprint import bp as api_bp

    app.register_blueprint(api_bp)
    return app
