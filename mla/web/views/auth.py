"""Sign-in, sign-out, the language switch, and the hooks every web request goes through."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, overload
from urllib.parse import urlsplit

from flask import (
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import refresh

from mla.authorities.models import Role, User
from mla.db import get_session, unit_of_work, utcnow
from mla.errors import Invalid, MLAError, has_nul
from mla.requests.service import Actor
from mla.web import accounts, bp, security
from mla.web.i18n import LANGUAGE_NAMES


@bp.before_request
def _load_user() -> None:
    # A multipart body stays unread here (see security.is_multipart); its view reads it.
    values = request.args if security.is_multipart() else request.values
    if has_nul(request.view_args) or any(has_nul(v) for v in values.values()):
        abort(400)  # no text the database could store carries a NUL
    security.check_csrf()
    g.user = None
    uid = session.get("uid")
    if uid is not None:
        user = get_session().get(User, uid)
        if user is not None and user.active:
            g.user = user
        else:
            session.clear()


# The whole application's, not only this blueprint's: error pages for unknown paths, the API
# and its docs page need them as much.
bp.after_app_request(security.add_headers)


View = Callable[..., ResponseReturnValue]


@overload
def login_required(view: View) -> View: ...
@overload
def login_required(*, role: Role = Role.CLERK) -> Callable[[View], View]: ...
def login_required(view: View | None = None, *, role: Role = Role.CLERK) -> Any:
    """Require a signed-in user of at least ``role``; the view gets ``actor=Actor``.

    Anonymous callers are sent to sign in (and back afterwards); a lower role gets 403.
    """

    def decorate(fn: View) -> View:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            user: User | None = g.get("user")
            if user is None:
                return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
            if not user.role.includes(role):
                abort(403)
            g.actor = Actor.for_user(user)
            return fn(*args, actor=g.actor, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def _safe_next(target: str | None) -> str:
    # Only paths on this site: an open redirect would make a phishing link look like ours.
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("web.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if g.user is not None and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "")
        password = request.form.get("password", "")
        with unit_of_work() as db:
            result = accounts.sign_in(db, username, password, utcnow())
        if result.user is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session (and CSRF token) for the signed-in user
            session.permanent = True
            session["uid"] = result.user.id
            if lang and lang != result.user.language:
                with unit_of_work() as db:
                    accounts.set_language(db, result.user, lang)
            return redirect(_safe_next(request.form.get("next")))
        if result.locked_until is not None:
            error = _(
                "Too many failed attempts: this account is locked for a while. "
                "Try again later or ask your administrator."
            )
        else:
            error = _("Wrong username or password.")
    status = 401 if error else 200
    return render_template(
        "login.html", error=error, username=username, next=request.args.get("next", "")
    ), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    lang = g.user.language if g.user is not None else session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang  # the sign-in page stays in the language the user chose
    flash(_("You have signed out."), "info")
    return redirect(url_for("web.login"))


@bp.post("/language")
def language() -> ResponseReturnValue:
    lang = request.form.get("language", "")
    if lang not in LANGUAGE_NAMES:
        abort(400)
    if g.user is not None:
        with unit_of_work() as db:
            accounts.set_language(db, g.user, lang)
    session["lang"] = lang
    refresh()
    return redirect(_safe_next(request.form.get("next")))


@bp.app_errorhandler(404)
def _not_found(exc: Exception) -> ResponseReturnValue:
    if request.path.startswith("/api/"):
        return exc  # type: ignore[return-value]  # the API answers in its own format
    return render_template(
        "error.html",
        title=_("Not found"),
        message=_("There is no such page, or it is not yours to see."),
    ), 404


@bp.errorhandler(403)
def _forbidden(_exc: Exception) -> ResponseReturnValue:
    return render_template(
        "error.html", title=_("Not allowed"), message=_("Your role does not allow this page.")
    ), 403


@bp.errorhandler(400)
def _bad_request(exc: Exception) -> ResponseReturnValue:
    message = _("The request was not understood.")
    if getattr(exc, "description", "") == "csrf":
        message = _("This form has expired. Go back, reload the page and try again.")
    return render_template("error.html", title=_("Bad request"), message=message), 400


@bp.errorhandler(MLAError)
def _domain_error(exc: MLAError) -> ResponseReturnValue:
    # NotFound covers "exists but not yours": the same page, so nothing leaks.
    if exc.status == 404:
        return _not_found(exc)
    get_session().rollback()
    if isinstance(exc, Invalid):
        message = "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in exc.errors)
    else:
        message = exc.message
    return render_template("error.html", title=_("This cannot be done"), message=message), (
        exc.status
    )
