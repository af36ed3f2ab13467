"""Evidence attachments of a request: list, upload (streamed), download (streamed)."""

from __future__ import annotations

from flask import Response
from flask import request as http_request

from mla.api import schemas as s
from mla.api.problems import ApiProblem
from mla.api.routing import actor, operation
from mla.api.views import bp, json_response
from mla.app_services import evidence_service, request_service
from mla.db import parse_id
from mla.evidence.http import UnsupportedMediaType, download_response, open_upload
from mla.evidence.models import Attachment

READ, WRITE = "evidence:read", "evidence:write"


def attachment_out(a: Attachment) -> s.AttachmentOut:
    return s.AttachmentOut(
        id=a.id,
        filename=a.filename,
        size=a.size,
        sha256=a.sha256,
        media_type=a.media_type,
        created_at=a.created_at,
    )


@operation(
    bp,
    "GET",
    "/requests/{reference}/attachments",
    summary="A request's evidence files",
    tag="evidence",
    scope=READ,
    responses={200: s.AttachmentList},
)
def list_attachments(reference: str) -> Response:
    """Oldest first, with each file's size, media type and SHA-256."""
    request = request_service().get(actor(), reference)
    items = [attachment_out(a) for a in evidence_service().list(request, actor())]
    return json_response(s.AttachmentList(items=items))


@operation(
    bp,
    "POST",
    "/requests/{reference}/attachments",
    summary="Upload an evidence file",
    tag="evidence",
    scope=WRITE,
    multipart=True,
    responses={201: s.AttachmentOut},
)
def upload_attachment(reference: str) -> Response:
    """``multipart/form-data`` with the file in field ``file``; streamed and encrypted as it
    arrives, never held whole in memory nor written in clear to disk. 413 as soon as the file
    crosses the limit (``MLA_MAX_UPLOAD_MB``); 422 for an empty file."""
    request = request_service().get(actor(), reference)
    service = evidence_service()
    try:
        upload = open_upload(http_request, service.max_bytes)
    except UnsupportedMediaType:
        raise ApiProblem(
            415, "Unsupported media type", "send multipart/form-data, field file"
        ) from None
    attachment = service.upload(request, actor(), upload.filename, upload)  # type: ignore[arg-type]
    return json_response(attachment_out(attachment), 201)


@operation(
    bp,
    "GET",
    "/requests/{reference}/attachments/{attachment_id}",
    summary="Download an evidence file",
    tag="evidence",
    scope=READ,
    writes=True,
    responses={200: "binary"},
    response_headers={"Repr-Digest": "sha-256=:<base64>: of the plaintext (RFC 9530)"},
)
def download_attachment(reference: str, attachment_id: str) -> Response:
    """The plaintext, streamed and verified segment by segment, with its digest. The
    download is recorded in the request's custody log."""
    number = parse_id(attachment_id)
    if number is None:
        raise ApiProblem(404, "Not found", f"no attachment {attachment_id}")
    request = request_service().get(actor(), reference)
    download = evidence_service().download(request, actor(), number)
    # The wrapper commits the custody event before the body streams.
    return download_response(download)
