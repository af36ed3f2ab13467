"""Admins: the users and roles of the authority and of the executing authorities under it
(add, change role, deactivate, reset a password) and the authority's API tokens (role and
validity chosen when issued)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from mla.authorities import service as authorities
from mla.authorities import tokens
from mla.authorities.models import Role
from mla.db import get_session, utcnow
from mla.requests.service import Actor
from mla.web import boundary
from mla.web.blueprint import bp
from mla.web.boundary import login_required


def _users_page(
    actor: Actor,
    values: dict[str, str],
    errors: dict[str, list[str]],
    reset: tuple[str, str] | None = None,
) -> ResponseReturnValue:
    db = get_session()
    return render_template(
        "admin/users.html",
        users=authorities.managed_users(db, actor.authority),
        managed=authorities.managed_authorities(db, actor.authority),
        errors=errors,
        values=values,
        roles=list(Role),
        reset=reset,
    )


@bp.route("/admin/users", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def admin_users(actor: Actor) -> ResponseReturnValue:
    if request.method == "GET":
        language = actor.user.language if actor.user else "en"
        defaults = {"role": "clerk", "language": language, "authority": actor.authority.code}
        return _users_page(actor, defaults, {})
    fields = ("username", "email", "role", "language", "authority")
    values = {k: request.form.get(k, "") for k in fields}
    # A username already taken is said under the username.
    boundary.form(
        lambda errors, _exc: _users_page(actor, values, errors), conflict_field="username"
    )
    user = authorities.add_user(
        get_session(),
        values["username"],
        authority_code=values["authority"] or actor.authority.code,
        role=values["role"],
        email=values["email"],
        password=request.form.get("password", ""),
        language=values["language"] or "en",
        managed_by=actor.authority,
    )
    flash(_("User %(name)s added.", name=user.username), "success")
    return redirect(url_for("web.admin_users"), 303)


@bp.post("/admin/users/<int:user_id>/password")
@login_required(role=Role.ADMIN, back="web.admin_users")
def reset_user_password(actor: Actor, user_id: int) -> ResponseReturnValue:
    assert actor.user is not None
    user, temporary = authorities.reset_password(get_session(), actor.user, user_id)
    # The one-time password is shown once, in this response, and never stored: no redirect.
    values = {"role": "clerk", "language": actor.user.language, "authority": actor.authority.code}
    return _users_page(actor, values, {}, reset=(user.username, temporary))


def _tokens_page(
    actor: Actor, secret: str | None, values: dict[str, str], errors: dict[str, list[str]]
) -> ResponseReturnValue:
    return render_template(
        "admin/tokens.html",
        tokens=tokens.list_tokens(get_session(), actor.authority)[::-1],
        secret=secret,
        roles=list(Role),
        values=values,
        errors=errors,
        max_days=tokens.MAX_VALIDITY_DAYS,
        now=utcnow(),
    )


@bp.route("/admin/tokens", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def admin_tokens(actor: Actor) -> ResponseReturnValue:
    defaults = {"role": "clerk", "days": str(tokens.DEFAULT_VALIDITY_DAYS)}
    if request.method == "GET":
        return _tokens_page(actor, None, defaults, {})
    values = {k: request.form.get(k, defaults[k]).strip() for k in defaults}
    boundary.form(lambda errors, _exc: _tokens_page(actor, None, values, errors))
    _row, secret = tokens.create_for_admin(
        get_session(), actor.authority, days=values["days"], role=values["role"]
    )
    # The token is shown once, in this response, and never stored: no redirect here.
    return _tokens_page(actor, secret, defaults, {})


@bp.post("/admin/tokens/<int:token_id>/revoke")
@login_required(role=Role.ADMIN, back="web.admin_tokens")
def revoke_token(actor: Actor, token_id: int) -> ResponseReturnValue:
    tokens.revoke(get_session(), token_id, authority=actor.authority)
    flash(_("Token revoked."), "success")
    return redirect(url_for("web.admin_tokens"), 303)


@bp.post("/admin/users/<int:user_id>/role")
@login_required(role=Role.ADMIN, back="web.admin_users")
def set_user_role(actor: Actor, user_id: int) -> ResponseReturnValue:
    assert actor.user is not None
    user = authorities.set_role(get_session(), actor.user, user_id, request.form.get("role", ""))
    flash(_("%(name)s is now %(role)s.", name=user.username, role=_role(user.role)), "success")
    return redirect(url_for("web.admin_users"), 303)


@bp.post("/admin/users/<int:user_id>/active")
@login_required(role=Role.ADMIN, back="web.admin_users")
def set_user_active(actor: Actor, user_id: int) -> ResponseReturnValue:
    assert actor.user is not None
    active = request.form.get("active") == "1"
    user = authorities.set_active(get_session(), actor.user, user_id, active)
    if active:
        flash(_("%(name)s can sign in again.", name=user.username), "success")
    else:
        flash(_("%(name)s can no longer sign in.", name=user.username), "success")
    return redirect(url_for("web.admin_users"), 303)


def _role(role: Role) -> str:
    names: dict[Role, str] = {
        Role.CLERK: _("clerk"),
        Role.SUPERVISOR: _("supervisor"),
        Role.ADMIN: _("administrator"),
    }
    return names[role]
