"""Admins: the authority's users and roles, its API tokens and its directory entry."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from mla.api import tokens
from mla.api.models import ApiToken
from mla.authorities import service as authorities
from mla.authorities.models import Role, User
from mla.db import get_session
from mla.errors import Conflict, Invalid
from mla.requests.service import Actor
from mla.web import bp, forms
from mla.web.views.auth import login_required


def _users(actor: Actor) -> list[User]:
    return list(
        get_session().scalars(
            select(User).where(User.authority_id == actor.authority.id).order_by(User.username)
        )
    )


def _tokens(actor: Actor) -> list[ApiToken]:
    return list(
        get_session().scalars(
            select(ApiToken)
            .where(ApiToken.authority_id == actor.authority.id)
            .order_by(ApiToken.id.desc())
        )
    )


@bp.route("/admin/users", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def admin_users(actor: Actor) -> ResponseReturnValue:
    errors: dict[str, list[str]] = {}
    values = {"role": "clerk", "language": actor.user.language if actor.user else "en"}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in ("username", "email", "role", "language")}
        db = get_session()
        try:
            user = authorities.add_user(
                db,
                values["username"],
                authority_code=actor.authority.code,
                role=values["role"],
                email=values["email"],
                password=request.form.get("password", ""),
                language=values["language"] or "en",
            )
            db.commit()
        except (Invalid, Conflict) as exc:
            db.rollback()
            errors = (
                forms.errors_by_field(exc)
                if isinstance(exc, Invalid)
                else {"username": [exc.message]}
            )
        else:
            flash(_("User %(name)s added.", name=user.username), "success")
            return redirect(url_for("web.admin_users"), 303)
    return render_template(
        "admin/users.html", users=_users(actor), errors=errors, values=values, roles=list(Role)
    ), (422 if errors else 200)


@bp.route("/admin/tokens", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def admin_tokens(actor: Actor) -> ResponseReturnValue:
    secret = None
    if request.method == "POST":
        db = get_session()
        _row, secret = tokens.create(db, actor.authority)
        db.commit()
    # The token is shown once, in this response, and never stored: no redirect here.
    return render_template("admin/tokens.html", tokens=_tokens(actor), secret=secret)


@bp.post("/admin/tokens/<int:token_id>/revoke")
@login_required(role=Role.ADMIN)
def revoke_token(actor: Actor, token_id: int) -> ResponseReturnValue:
    if token_id not in {t.id for t in _tokens(actor)}:
        abort(404)  # another authority's token: as if it did not exist
    db = get_session()
    try:
        tokens.revoke(db, token_id)
        db.commit()
        flash(_("Token revoked."), "success")
    except Conflict as exc:
        db.rollback()
        flash(exc.message, "error")
    return redirect(url_for("web.admin_tokens"), 303)


@bp.get("/admin/directory")
@login_required(role=Role.ADMIN)
def admin_directory(actor: Actor) -> ResponseReturnValue:
    return render_template("admin/directory.html", authority=actor.authority)
