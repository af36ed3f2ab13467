"""Admins: the authority's users and roles (add, change role, deactivate) and its API tokens."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from mla.api import tokens
from mla.authorities import service as authorities
from mla.authorities.models import Role
from mla.db import get_session
from mla.errors import Conflict, Invalid, NotAllowed
from mla.requests.service import Actor
from mla.web import bp, forms
from mla.web.views.auth import login_required


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
        "admin/users.html",
        users=authorities.list_users(get_session(), actor.authority),
        errors=errors,
        values=values,
        roles=list(Role),
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
    return render_template(
        "admin/tokens.html",
        tokens=tokens.list_tokens(get_session(), actor.authority)[::-1],
        secret=secret,
    )


@bp.post("/admin/tokens/<int:token_id>/revoke")
@login_required(role=Role.ADMIN)
def revoke_token(actor: Actor, token_id: int) -> ResponseReturnValue:
    db = get_session()
    try:
        tokens.revoke(db, token_id, authority=actor.authority)
        db.commit()
        flash(_("Token revoked."), "success")
    except Conflict as exc:
        db.rollback()
        flash(exc.message, "error")
    return redirect(url_for("web.admin_tokens"), 303)


@bp.post("/admin/users/<int:user_id>/role")
@login_required(role=Role.ADMIN)
def set_user_role(actor: Actor, user_id: int) -> ResponseReturnValue:
    assert actor.user is not None
    db = get_session()
    try:
        user = authorities.set_role(db, actor.user, user_id, request.form.get("role", ""))
        db.commit()
    except (Invalid, NotAllowed) as exc:
        db.rollback()
        flash(_("Not done: %(reason)s", reason=_reason(exc)), "error")
    else:
        flash(_("%(name)s is now %(role)s.", name=user.username, role=_role(user.role)), "success")
    return redirect(url_for("web.admin_users"), 303)


@bp.post("/admin/users/<int:user_id>/active")
@login_required(role=Role.ADMIN)
def set_user_active(actor: Actor, user_id: int) -> ResponseReturnValue:
    assert actor.user is not None
    active = request.form.get("active") == "1"
    db = get_session()
    try:
        user = authorities.set_active(db, actor.user, user_id, active)
        db.commit()
    except NotAllowed as exc:
        db.rollback()
        flash(_("Not done: %(reason)s", reason=exc.message), "error")
    else:
        if active:
            flash(_("%(name)s can sign in again.", name=user.username), "success")
        else:
            flash(_("%(name)s can no longer sign in.", name=user.username), "success")
    return redirect(url_for("web.admin_users"), 303)


def _reason(exc: Invalid | NotAllowed) -> str:
    if isinstance(exc, Invalid):
        return "; ".join(e.message for e in exc.errors)
    return exc.message


def _role(role: Role) -> str:
    names: dict[Role, str] = {
        Role.CLERK: _("clerk"),
        Role.SUPERVISOR: _("supervisor"),
        Role.ADMIN: _("administrator"),
    }
    return names[role]
