"""Formal documents on the request page: preview one as a signed PDF in any of the four
languages, or keep it as evidence. A thin adapter over :mod:`mla.documents.service`."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from mla.app_services import document_service, request_service
from mla.db import parse_id
from mla.requests.models import Request
from mla.requests.service import Actor
from mla.web.blueprint import bp
from mla.web.boundary import login_required


def panel(req: Request, actor: Actor) -> dict[str, Any]:
    """What the documents panel offers: the documents the actor's authority may write now,
    and the language they are written in unless another is chosen."""
    service = document_service()
    return {"names": service.issuable(req, actor), "lang": service.language(req)}


def _wanted() -> tuple[str, str | None, int | None]:
    """The form's document (``custody:<attachment id>`` for a certificate), language."""
    document, _sep, attachment = str(request.form.get("document") or "").partition(":")
    return document, request.form.get("lang") or None, parse_id(attachment)


# A POST although it writes nothing: the form carries its CSRF token in the body, never in
# a URL that history and logs would keep.
@bp.post("/requests/<reference>/documents/preview")
@login_required(back="web.request_page")
def preview_document(actor: Actor, reference: str) -> ResponseReturnValue:
    req = request_service().get(actor, reference)
    service = document_service()
    document, lang, attachment = _wanted()
    lang = lang or service.language(req)
    pdf = service.render(req, actor, document, lang, attachment_id=attachment)
    name = service.filename(req, document, lang, attachment)
    response = Response(pdf, content_type="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/requests/<reference>/documents")
@login_required(back="web.request_page")
def store_document(actor: Actor, reference: str) -> ResponseReturnValue:
    req = request_service().get(actor, reference)
    service = document_service()
    document, lang, attachment = _wanted()
    stored = service.store(
        req, actor, document, lang or service.language(req), attachment_id=attachment
    )
    flash(_("Kept %(name)s as evidence.", name=stored.filename), "success")
    return redirect(url_for("web.request_page", reference=req.reference, _anchor="evidence"), 303)
