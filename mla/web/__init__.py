"""The clerks' web UI (server-rendered)."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text

from mla.authorities.service import list_authorities
from mla.db import get_session

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static")


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    get_session().execute(text("SELECT 1"))
    return jsonify(status="ok")


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    return render_template("index.html", authorities=list_authorities(get_session()))
