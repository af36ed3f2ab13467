"""Evidence on the request page: the list, upload (with progress, by static/js/upload.js)
and download. A thin adapter over :mod:`mla.evidence.service`."""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from mla.db import get_session
from mla.errors import Invalid, NotAllowed
from mla.requests.models import Request
from mla.requests.service import Actor, request_service
from mla.web import bp
from mla.web.views.auth import login_required


def listing(req: Request, actor: Actor) -> dict[str, Any]:
    """What the evidence panel shows: ``items``, or ``denied`` with the reason (a
    confidential request's evidence is open only to some of its authority's users)."""
    from mla.evidence.service import evidence_service

    try:
        return {"items": evidence_service().list(req, actor), "denied": None}
    except NotAllowed as exc:
        return {"items": [], "denied": exc.message}


def _wants_json() -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


@bp.post("/requests/<reference>/evidence")
@login_required
def upload_evidence(actor: Actor, reference: str) -> ResponseReturnValue:
    from mla.evidence.service import evidence_service

    req = request_service().get(actor, reference)
    db = get_session()
    file = request.files.get("file")
    page = url_for("web.request_page", reference=req.reference, _anchor="evidence")
    try:
        if file is None or not file.filename:
            raise Invalid("file: choose a file to upload")
        attachment = evidence_service().upload(req, actor, file.filename, file.stream)
        db.commit()
    except (Invalid, NotAllowed) as exc:
        db.rollback()
        if _wants_json():
            return jsonify(ok=False, error=exc.message), exc.status
        flash(_("Not uploaded: %(reason)s", reason=exc.message), "error")
        return redirect(page, 303)
    message = _("Uploaded %(name)s.", name=attachment.filename)
    if _wants_json():
        flash(message, "success")
        return jsonify(ok=True, redirect=page)
    flash(message, "success")
    return redirect(page, 303)


@bp.get("/requests/<reference>/evidence/<int:attachment_id>")
@login_required
def download_evidence(actor: Actor, reference: str, attachment_id: int) -> ResponseReturnValue:
    from mla.evidence.http import download_response
    from mla.evidence.service import evidence_service

    req = request_service().get(actor, reference)
    download = evidence_service().download(req, actor, attachment_id)
    # The download's custody event is part of this unit of work: commit before streaming.
    get_session().commit()
    return download_response(download)
