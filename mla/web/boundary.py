"""The web UI's boundary: what every page and form goes through, written once (as
:func:`mla.api.routing.operation` is for the API).

For each request to a view declared with :func:`login_required` or :func:`public`, in order:

1. The body is capped before anything can read it: :data:`FORM_MAX_BYTES` for forms (past
   it the answer is 413), :data:`ANONYMOUS_BODY_BYTES` before sign-in (and a chunked body,
   of no declared length, is refused then: 411); an upload route's body is the evidence
   intake's, which refuses it (413) as the stream crosses ``MLA_MAX_UPLOAD_MB``.
2. Sign-in is decided from the session cookie alone: an anonymous caller is sent to sign in,
   a lower role gets 403, and not one byte of the body has been read.
3. A state-changing request must carry the session's CSRF token (header, else form field);
   no text with a NUL character gets further (400).
4. One unit of work: a state-changing request, or a GET declared ``writes`` (a download
   records its custody event), runs in a transaction begun as one that may write
   (:func:`mla.db.begin_write`: ``BEGIN IMMEDIATE`` on SQLite, so that a read followed by a
   write cannot fail against another writer). An upload begins as a reader: the file
   streams into the evidence intake first and the service takes the write lock after it,
   so that a slow sender never holds the database.
5. The boundary commits once when the view returns, and rolls back on any exception.
6. Domain errors are mapped here and nowhere else: ``Invalid`` re-renders the view's form
   (:func:`form`) with every field's messages (422); ``Conflict`` and ``NotAllowed`` flash
   the reason and redirect back (303), or go onto the form when the view says which field
   they concern; ``NotFound`` is the 404 page (another authority's thing reads as none);
   anything else the error page with its status. Callers asking for JSON (the upload
   script) get ``{"ok": false, "error": ...}`` instead.

Views therefore parse input, call one service function and render or redirect: no
``commit``, ``rollback`` or ``try`` around a service in a view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, overload

from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from mla.authorities.models import Role, User
from mla.db import begin_write, get_session
from mla.errors import (
    N_,
    Conflict,
    FieldError,
    Invalid,
    MLAError,
    NotAllowed,
    TooLarge,
    has_nul,
)
from mla.requests.service import Actor
from mla.web import security
from mla.web.blueprint import bp
from mla.web.i18n import localize

# Every form of the UI is a few KiB; the longest (a request with many persons) well under.
FORM_MAX_BYTES = 1 << 20
# Before sign-in (the sign-in form, the language) a body is tiny. mla serve waits for a body
# this small to arrive in full before a request thread reads it (mla.server), so that no one
# who has not signed in can hold a thread by sending slowly.
ANONYMOUS_BODY_BYTES = 16 * 1024

View = Callable[..., ResponseReturnValue]
FormRender = Callable[[dict[str, list[str]], MLAError], ResponseReturnValue]


@dataclass(frozen=True)
class _Form:
    render: FormRender
    conflict_field: str | None
    pending: tuple[FieldError, ...] = ()


def form(
    render: FormRender,
    *,
    conflict_field: str | None = None,
    pending: list[FieldError] | tuple[FieldError, ...] = (),
) -> None:
    """Declare the form this request submitted, before calling the service.

    If the unit of work fails with ``Invalid``, the boundary rolls it back and answers
    ``render(errors, exc)`` with status 422, ``errors`` mapping each field name (``''``
    for the whole form) to its messages. With ``conflict_field``, a ``Conflict`` or
    ``NotAllowed`` goes onto the form too, under that field (e.g. a username already taken);
    otherwise it is flashed and the caller redirected back.

    ``pending``: what the view found wrong with the form's shape (a date that is no date).
    The view still calls the service with the rest, so that every error is shown in one
    round, then raises ``Invalid(pending)`` itself if the service found nothing; the
    service's messages for a field named in ``pending`` give way to the view's.
    """
    g.web_form = _Form(render, conflict_field, tuple(pending))


def _messages(exc: MLAError) -> list[FieldError]:
    """The error's messages by field, still as templates and parameters."""
    if isinstance(exc, TooLarge) and exc.limit is not None:
        limit = exc.limit >> 20
        return [FieldError(e.field, N_("the file is larger than the %(limit)s MiB limit"),
                           {"limit": limit}) for e in exc.errors]  # fmt: skip
    if isinstance(exc, Invalid):
        return exc.errors
    return [FieldError("", exc.template, exc.params)]


def field_messages(exc: MLAError, field: str = "") -> dict[str, list[str]]:
    """Field name → the messages shown under it ('' for the whole form), in the reader's
    language.

    The one place where a service's error becomes words on a page: each message's template
    is translated (gettext) and then filled with its parameters.
    """
    out: dict[str, list[str]] = {}
    for e in _messages(exc):
        key = e.field if isinstance(exc, Invalid) else field
        out.setdefault(key, []).append(localize(e))
    return out


def _reason(exc: MLAError) -> str:
    return "; ".join(
        f"{e.field}: {localize(e)}" if e.field else localize(e) for e in _messages(exc)
    )


def _wants_json() -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


def _back(endpoint: str | None) -> str | None:
    """Where a refused form goes back to: ``endpoint`` with the path arguments it takes, or
    the page itself when it is also a page (GET); None when there is nowhere to go."""
    args = request.view_args or {}
    if endpoint is not None:
        takes = next(current_app.url_map.iter_rules(endpoint)).arguments
        return url_for(endpoint, **{k: v for k, v in args.items() if k in takes})
    rule = request.url_rule
    if request.method not in security.SAFE_METHODS and rule and "GET" in (rule.methods or ()):
        return request.full_path.rstrip("?")
    return None


def _refused(exc: MLAError, back: str | None) -> ResponseReturnValue:
    """The answer to a unit of work that a domain error ended (already rolled back)."""
    if exc.status == 404:
        abort(404)  # the 404 page: "no such thing" and "not yours" read the same
    if _wants_json():
        return jsonify(ok=False, error=_reason(exc)), exc.status
    spec: _Form | None = g.pop("web_form", None)
    if spec is not None and (
        isinstance(exc, Invalid)
        or (spec.conflict_field is not None and isinstance(exc, Conflict | NotAllowed))
    ):
        errors = field_messages(exc, spec.conflict_field or "")
        if spec.pending and isinstance(exc, Invalid):
            ours = field_messages(Invalid(list(spec.pending)))
            errors = {k: v for k, v in errors.items() if k not in ours} | ours
        response = make_response(spec.render(errors, exc))
        response.status_code = 422  # the form again, with what to correct
        return response
    target = _back(back) if isinstance(exc, Invalid | Conflict | NotAllowed) else None
    if target is not None:
        flash(_("Not done: %(reason)s", reason=_reason(exc)), "error")
        return redirect(target, 303)
    return render_template(
        "error.html", title=_("This cannot be done"), message=_reason(exc)
    ), exc.status


def _guarded(view: View, role: Role | None, upload: bool, writes: bool, back: str | None) -> View:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        user: User | None = g.get("user")
        # An upload's limit is the evidence intake's, enforced as the stream crosses it.
        request.max_content_length = (
            None if upload else FORM_MAX_BYTES if user else ANONYMOUS_BODY_BYTES
        )
        if user is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            abort(411)  # a body of unknown length from a caller not signed in: never read
        if role is not None:
            if user is None:
                return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
            if not user.role.includes(role):
                abort(403)
            if user.must_change_password and request.endpoint != "web.account_password":
                # An admin reset the password: the one-time password opens this page only.
                return redirect(url_for("web.account_password"))
        changes = request.method not in security.SAFE_METHODS
        if changes:
            security.check_csrf()
        # An upload's form is the file: it is read by the evidence intake, not here.
        given = request.args if upload else request.values
        if has_nul(request.view_args) or has_nul(dict(given.lists())):
            abort(400)  # no text the database could store carries a NUL
        session = get_session()
        if (changes and not upload) or writes:
            begin_write(session)
        if role is not None:
            assert user is not None
            g.actor = Actor.for_user(user)
            kwargs["actor"] = g.actor
        try:
            result = view(*args, **kwargs)
            session.commit()
        except MLAError as exc:
            session.rollback()
            return _refused(exc, back)
        except BaseException:
            session.rollback()
            raise
        return result

    wrapper.mla_boundary = True  # type: ignore[attr-defined]  # checked by the tests
    return wrapper


@overload
def login_required(view: View) -> View: ...
@overload
def login_required(
    *,
    role: Role = Role.CLERK,
    upload: bool = False,
    writes: bool = False,
    back: str | None = None,
) -> Callable[[View], View]: ...
def login_required(
    view: View | None = None,
    *,
    role: Role = Role.CLERK,
    upload: bool = False,
    writes: bool = False,
    back: str | None = None,
) -> Any:
    """A page or form for a signed-in user of at least ``role``; the view gets
    ``actor=Actor``. Anonymous callers are sent to sign in (and back afterwards); a lower
    role gets 403.

    ``upload``: the body is an evidence file (the upload cap; the write lock is the
    evidence service's, after the file has streamed). ``writes``: a GET that writes.
    ``back``: the endpoint a refused form redirects to (default: the page itself).
    """

    def decorate(fn: View) -> View:
        return _guarded(fn, role, upload, writes, back)

    return decorate(view) if view is not None else decorate


def public(view: View) -> View:
    """A page or form open to anyone (signing in and out, the language switch): the same
    boundary without the sign-in check."""
    return _guarded(view, None, False, False, None)


# --- error pages ----------------------------------------------------------------------------


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


@bp.errorhandler(413)
def _too_large(_exc: Exception) -> ResponseReturnValue:
    message = _("What was sent is larger than this form accepts.")
    if _wants_json():
        return jsonify(ok=False, error=message), 413
    return render_template("error.html", title=_("Too large"), message=message), 413
