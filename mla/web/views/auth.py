"""Sign-in, sign-out, the language switch, and the hooks every web request goes through."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, overload
from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import refresh
from sqlalchemy.exc import OperationalError

from mla.authorities import sessions as user_sessions
from mla.authorities.models import Role, User
from mla.db import get_session, unit_of_work, utcnow
from mla.errors import Invalid, MLAError, has_nul
from mla.requests.service import Actor
from mla.web import accounts, bp, forms, security
from mla.web.i18n import LANGUAGE_NAMES

log = logging.getLogger("mla.web")

# The cookie's key for the server-side session id (mla.authorities.sessions).
SESSION_KEY = "sid"


@bp.record_once
def _setup_throttle(state: BlueprintSetupState) -> None:
    state.app.extensions["mla.signin_throttle"] = accounts.SignInThrottle()


def _throttle() -> accounts.SignInThrottle:
    throttle: accounts.SignInThrottle = current_app.extensions["mla.signin_throttle"]
    return throttle


def _client() -> str:
    # The peer's address (the proxy's, unless MLA_TRUSTED_PROXIES lets ProxyFix rewrite it).
    return request.remote_addr or ""


def _start(session_id: str) -> None:
    """Put a new server-side session in the cookie: a fresh cookie, CSRF token included."""
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = session_id


def _sign_out_cookie() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang  # the sign-in page stays in the language the user chose


@bp.before_request
def _load_user() -> None:
    # A multipart body stays unread here (see security.is_multipart); its view reads it.
    values = request.args if security.is_multipart() else request.values
    if has_nul(request.view_args) or any(has_nul(v) for v in values.values()):
        abort(400)  # no text the database could store carries a NUL
    security.check_csrf()
    g.user = None
    session_id = session.get(SESSION_KEY)
    if session_id is None:
        return
    now = utcnow()
    live = user_sessions.find(get_session(), str(session_id), now)
    if live is None:
        _sign_out_cookie()
        return
    g.user = live.user
    if request.method in security.SAFE_METHODS and user_sessions.needs_touch(live, now):
        _touch(live.id, now)


def _touch(row_id: int, now: datetime) -> None:
    # Its own short transaction, and only on reads: the request's own transaction stays a
    # read, and a write request (which may already hold SQLite's write lock) never waits on
    # itself. Best effort: a page must not fail because "last seen" could not be written.
    try:
        with current_app.extensions["mla.db"].sessionmaker() as db, unit_of_work(db):
            user_sessions.touch(db, row_id, now)
    except OperationalError:
        log.warning("could not record the last use of web session %s", row_id, exc_info=True)


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
            result = accounts.sign_in(db, _throttle(), _client(), username, password, utcnow())
        if result is not None:
            lang = session.get("lang")
            _start(result.session_id)
            if lang and lang != result.user.language:
                with unit_of_work() as db:
                    accounts.set_language(db, result.user, lang)
            return redirect(_safe_next(request.form.get("next")))
        # The one answer to every refusal: it must not tell an unknown user from a wrong
        # password or a throttled address, and a clerk who is throttled learns what to do.
        error = _(
            "Wrong username or password. If you are sure they are right, wait a few "
            "minutes and try again."
        )
    status = 401 if error else 200
    return render_template(
        "login.html", error=error, username=username, next=request.args.get("next", "")
    ), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    if g.user is not None:
        session["lang"] = g.user.language
        with unit_of_work() as db:
            user_sessions.end(db, str(session[SESSION_KEY]), utcnow())
    _sign_out_cookie()
    flash(_("You have signed out."), "info")
    return redirect(url_for("web.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def account_password(actor: Actor) -> ResponseReturnValue:
    assert actor.user is not None
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        new = request.form.get("password", "")
        if new != request.form.get("confirm", ""):
            errors["confirm"] = [_("The two new passwords differ.")]
        else:
            db = get_session()
            try:
                session_id = accounts.change_password(
                    db,
                    _throttle(),
                    _client(),
                    actor.user,
                    request.form.get("current_password", ""),
                    new,
                    utcnow(),
                )
                db.commit()
            except Invalid as exc:
                db.rollback()
                errors = forms.errors_by_field(exc)
            else:
                _start(session_id)
                flash(_("Your password is changed. Other sessions are signed out."), "success")
                return redirect(url_for("web.dashboard"), 303)
    return render_template("account_password.html", errors=errors), (422 if errors else 200)


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
