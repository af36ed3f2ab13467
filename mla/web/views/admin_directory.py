"""Admins: the authority's directory entry (contact points, accepted languages) and its
closure days (not business days for its deadlines)."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from mla.authorities import service as authorities
from mla.authorities.models import Role
from mla.db import get_session
from mla.deadlines import closures
from mla.errors import N_, FieldError, Invalid
from mla.requests.service import Actor
from mla.web import boundary, forms
from mla.web.blueprint import bp
from mla.web.boundary import login_required


def _directory_page(
    actor: Actor, languages: str, contacts: list[dict[str, str]], errors: dict[str, list[str]]
) -> ResponseReturnValue:
    return render_template(
        "admin/directory.html",
        authority=actor.authority,
        languages=languages,
        contacts=contacts + [{} for _ in range(forms.CONTACT_ROWS)],
        errors=errors,
    )


@bp.route("/admin/directory", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def admin_directory(actor: Actor) -> ResponseReturnValue:
    authority = actor.authority
    if request.method == "GET":
        contacts = [dict(c) for c in authority.contact_points or []]
        return _directory_page(actor, ", ".join(authority.languages or []), contacts, {})
    languages = request.form.get("languages", "")
    contacts = forms.contact_rows(request.form)
    boundary.form(lambda errors, _exc: _directory_page(actor, languages, contacts, errors))
    authorities.update_directory_entry(
        get_session(),
        authority,
        languages=forms.language_codes(languages),
        contact_points=contacts,
    )
    flash(_("Directory entry saved."), "success")
    return redirect(url_for("web.admin_directory"), 303)


def _closures_page(
    actor: Actor, values: dict[str, str], errors: dict[str, list[str]]
) -> ResponseReturnValue:
    return render_template(
        "admin/closures.html",
        closures=closures.list_closures(get_session(), actor.authority),
        errors=errors,
        values=values,
    )


@bp.route("/admin/closures", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def admin_closures(actor: Actor) -> ResponseReturnValue:
    if request.method == "GET":
        return _closures_page(actor, {"day": "", "reason": ""}, {})
    values = {k: (request.form.get(k) or "").strip() for k in ("day", "reason")}
    # A day already closed is said under the day.
    boundary.form(lambda errors, _exc: _closures_page(actor, values, errors), conflict_field="day")
    try:
        day = date.fromisoformat(values["day"])
    except ValueError:
        raise Invalid(FieldError("day", N_("must be a date (YYYY-MM-DD)"))) from None
    closures.add_closure(get_session(), actor.authority, day, values["reason"])
    flash(_("Closure day added."), "success")
    return redirect(url_for("web.admin_closures"), 303)


@bp.post("/admin/closures/<int:closure_id>/delete")
@login_required(role=Role.ADMIN)
def delete_closure(actor: Actor, closure_id: int) -> ResponseReturnValue:
    # NotFound (another authority's, or none) becomes the 404 page.
    closures.remove_closure(get_session(), actor.authority, closure_id)
    flash(_("Closure day removed."), "success")
    return redirect(url_for("web.admin_closures"), 303)
