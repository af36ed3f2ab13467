"""Sign-in, sign-out, the language switch, and who is signed in (from the session cookie)."""

from __future__ import annotations

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

from mla.authorities.models import User
from mla.db import get_session, utcnow
from mla.web import accounts, bp, security
from mla.web.boundary import public
from mla.web.i18n import LANGUAGE_NAMES


@bp.before_request
def _load_user() -> None:
    # The session cookie only: the body is the boundary's, read after sign-in is checked.
    g.user = None
    uid = session.get("uid")
    if uid is not None:
        user = get_session().get(User, uid)
        if user is not None and user.active:
            g.user = user
        else:
            session.clear()


bp.after_request(security.add_headers)


def _safe_next(target: str | None) -> str:
    # Only paths on this site: an open redirect would make a phishing link look like ours.
    if target and target.startswith("/") and not target.startswith("//"):
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
        result = accounts.sign_in(db, username, password, utcnow())
        if result.user is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session (and CSRF token) for the signed-in user
            session.permanent = True
            session["uid"] = result.user.id
            if lang and lang != result.user.language:
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
@public
def logout() -> ResponseReturnValue:
    lang = g.user.language if g.user is not None else session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang  # the sign-in page stays in the language the user chose
    flash(_("You have signed out."), "info")
    return redirect(url_for("web.login"))


@bp.post("/language")
@public
def language() -> ResponseReturnValue:
    lang = request.form.get("language", "")
    if lang not in LANGUAGE_NAMES:
        abort(400)
    if g.user is not None:
        accounts.set_language(get_session(), g.user, lang)
    session["lang"] = lang
    refresh()
    return redirect(_safe_next(request.form.get("next")))
