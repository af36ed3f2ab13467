"""Evidence on the request page: the list, upload (with progress, by static/js/upload.js)
and download. A thin adapter over :mod:`mla.evidence.service`."""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from mla.app_services import request_service
from mla.errors import FieldError, Invalid, NotAllowed
from mla.requests.models import Request
from mla.requests.service import Actor
from mla.web import security
from mla.web.blueprint import bp
from mla.web.boundary import login_required
from mla.web.i18n import localize


def listing(req: Request, actor: Actor) -> dict[str, Any]:
    """What the evidence panel shows: ``items``, or ``denied`` with the reason (a
    confidential request's evidence is open only to some of its authority's users)."""
    from mla.app_services import evidence_service

    try:
        return {"items": evidence_service().list(req, actor), "denied": None}
    except NotAllowed as exc:
        return {"items": [], "denied": localize(exc)}


@bp.post("/requests/<reference>/evidence")
@security.streams_body
@login_required(upload=True, back="web.request_page")
def upload_evidence(actor: Actor, reference: str) -> ResponseReturnValue:
    from mla.app_services import evidence_service
    from mla.evidence.http import UnsupportedMediaType, open_upload

    req = request_service().get(actor, reference)
    page = url_for("web.request_page", reference=req.reference, _anchor="evidence")
    service = evidence_service()
    # Streamed from the socket like the API's upload: request.files would spool it to disk.
    try:
        file = open_upload(request, service.max_bytes)
    except UnsupportedMediaType:
        file = None
    if file is not None:
        security.check_csrf_in_body(file.fields)
    if file is None or not file.filename:
        raise Invalid(FieldError("file", _("choose a file to upload")))
    attachment = service.upload(req, actor, file.filename, file)  # type: ignore[arg-type]
    flash(_("Uploaded %(name)s.", name=attachment.filename), "success")
    if request.headers.get("Accept", "").startswith("application/json"):
        return jsonify(ok=True, redirect=page)
    return redirect(page, 303)


@bp.get("/requests/<reference>/evidence/<int:attachment_id>")
@login_required(writes=True)  # the download's custody event
def download_evidence(actor: Actor, reference: str, attachment_id: int) -> ResponseReturnValue:
    from mla.app_services import evidence_service
    from mla.evidence.http import download_response

    req = request_service().get(actor, reference)
    # The boundary commits the custody event before the body streams.
    return download_response(evidence_service().download(req, actor, attachment_id))
