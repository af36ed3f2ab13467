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
from mla.deadlines import service as deadlines
from mla.errors import Conflict, FieldError, Invalid
from mla.requests.service import Actor
from mla.web import bp, forms
from mla.web.views.auth import login_required


@bp.route("/admin/directory", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def admin_directory(actor: Actor) -> ResponseReturnValue:
    authority = actor.authority
    errors: dict[str, list[str]] = {}
    languages = ", ".join(authority.languages or [])
    contacts: list[dict[str, str]] = [dict(c) for c in authority.contact_points or []]
    if request.method == "POST":
        languages = request.form.get("languages", "")
        contacts = forms.contact_rows(request.form)
        db = get_session()
        try:
            authorities.update_directory_entry(
                db,
                authority,
                languages=forms.language_codes(languages),
                contact_points=contacts,
            )
            db.commit()
        except Invalid as exc:
            db.rollback()
            errors = forms.errors_by_field(exc)
        else:
            flash(_("Directory entry saved."), "success")
            return redirect(url_for("web.admin_directory"), 303)
    return render_template(
        "admin/directory.html",
        authority=authority,
        languages=languages,
        contacts=contacts + [{} for _ in range(forms.CONTACT_ROWS)],
        errors=errors,
    ), (422 if errors else 200)


@bp.route("/admin/closures", methods=["GET", "POST"])
@login_required(role=Role.ADMIN)
def admin_closures(actor: Actor) -> ResponseReturnValue:
    db = get_session()
    errors: dict[str, list[str]] = {}
    values = {"day": "", "reason": ""}
    if request.method == "POST":
        values = {k: (request.form.get(k) or "").strip() for k in ("day", "reason")}
        try:
            try:
                day = date.fromisoformat(values["day"])
            except ValueError:
                raise Invalid(FieldError("day", "must be a date (YYYY-MM-DD)")) from None
            deadlines.add_closure(db, actor.authority, day, values["reason"])
            db.commit()
        except Invalid as exc:
            db.rollback()
            errors = forms.errors_by_field(exc)
        except Conflict as exc:
            db.rollback()
            errors = {"day": [exc.message]}
        else:
            flash(_("Closure day added."), "success")
            return redirect(url_for("web.admin_closures"), 303)
    return render_template(
        "admin/closures.html",
        closures=deadlines.list_closures(db, actor.authority),
        errors=errors,
        values=values,
    ), (422 if errors else 200)


@bp.post("/admin/closures/<int:closure_id>/delete")
@login_required(role=Role.ADMIN)
def delete_closure(actor: Actor, closure_id: int) -> ResponseReturnValue:
    db = get_session()
    # NotFound (another authority's, or none) becomes the 404 page.
    deadlines.remove_closure(db, actor.authority, closure_id)
    db.commit()
    flash(_("Closure day removed."), "success")
    return redirect(url_for("web.admin_closures"), 303)
