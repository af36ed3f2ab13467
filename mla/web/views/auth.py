"""Sign-in, sign-out, the language switch, one's own password, and who is signed in (from the
server-side session the cookie names)."""

from __future__ import annotations

import logging
from datetime import datetime
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
from mla.authorities import signin
from mla.db import get_session, unit_of_work, utcnow
from mla.errors import FieldError, Invalid
from mla.requests.service import Actor
from mla.web import boundary, security
from mla.web.blueprint import bp
from mla.web.boundary import login_required, public
from mla.web.i18n import LANGUAGE_NAMES

log = logging.getLogger("mla.web")

# The cookie's key for the server-side session id (mla.authorities.sessions).
SESSION_KEY = "sid"


@bp.record_once
def _setup_throttle(state: BlueprintSetupState) -> None:
    state.app.extensions["mla.signin_throttle"] = signin.SignInThrottle()


def _throttle() -> signin.SignInThrottle:
    throttle: signin.SignInThrottle = current_app.extensions["mla.signin_throttle"]
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
    # The session cookie only: the body is the boundary's, read after sign-in is checked.
    g.user = None
    if request.endpoint == "web.static":
        return  # public files: no session read, so no "Vary: Cookie" to spoil caching
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


def _safe_next(target: str | None) -> str:
    # Only paths on this site: an open redirect would make a phishing link look like ours.
    # No control characters either: urlsplit drops tabs and line breaks before it looks, so
    # it would check another string than the one sent, and a line break in a Location header
    # is an error (a 500 from a crafted sign-in link).
    if target and target.startswith("/") and not target.startswith("//") and target.isprintable():
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("web.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    if g.user is not None and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "")
        password = request.form.get("password", "")
        db = get_session()
        result = signin.sign_in(db, _throttle(), _client(), username, password, utcnow())
        if result is not None:
            lang = session.get("lang")
            _start(result.session_id)
            if lang and lang != result.user.language:
                signin.set_language(db, result.user, lang)
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
@public
def logout() -> ResponseReturnValue:
    if g.user is not None:
        session["lang"] = g.user.language
        user_sessions.end(get_session(), str(session[SESSION_KEY]), utcnow())
    _sign_out_cookie()
    flash(_("You have signed out."), "info")
    return redirect(url_for("web.login"))


def _password_page(errors: dict[str, list[str]]) -> ResponseReturnValue:
    return render_template("account_password.html", errors=errors)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def account_password(actor: Actor) -> ResponseReturnValue:
    assert actor.user is not None
    if request.method == "GET":
        return _password_page({})
    boundary.form(lambda errors, _exc: _password_page(errors))
    new = request.form.get("password", "")
    if new != request.form.get("confirm", ""):
        raise Invalid(FieldError("confirm", _("The two new passwords differ.")))
    session_id = signin.change_password(
        get_session(),
        _throttle(),
        _client(),
        actor.user,
        request.form.get("current_password", ""),
        new,
        utcnow(),
    )
    _start(session_id)
    flash(_("Your password is changed. Other sessions are signed out."), "success")
    return redirect(url_for("web.dashboard"), 303)


@bp.post("/language")
@public
def language() -> ResponseReturnValue:
    lang = request.form.get("language", "")
    if lang not in LANGUAGE_NAMES:
        abort(400)
    if g.user is not None:
        signin.set_language(get_session(), g.user, lang)
    session["lang"] = lang
    refresh()
    return redirect(_safe_next(request.form.get("next")))
