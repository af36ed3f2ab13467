"""Formal documents of a request: preview one (signed PDF, not kept) or issue it again, in
any of the four languages, as a new evidence attachment."""

from __future__ import annotations

from typing import Literal

from flask import Response
from pydantic import BaseModel, Field

from mla.api import schemas as s
from mla.api.attachments import attachment_out
from mla.api.routing import actor, operation, query_args
from mla.api.views import bp, json_response
from mla.app_services import document_service, request_service
from mla.evidence.http import content_disposition


class DocumentQuery(BaseModel):
    lang: Literal["en", "es", "fr", "pt"] | None = Field(
        default=None, description="default: the request's language"
    )
    attachment: int | None = Field(
        default=None, ge=1, description="the certificate of custody's attachment id"
    )


@operation(
    bp,
    "GET",
    "/requests/{reference}/documents/{document}",
    summary="Preview a formal document (signed PDF)",
    tag="documents",
    scope="requests:read",
    query=DocumentQuery,
    responses={200: "binary"},
)
def preview_document(reference: str, document: str) -> Response:
    """``document`` is one of letter_of_request, provisional_arrest, extradition_request,
    acknowledgement, information_request, refusal, postponement, results, custody (with
    ``attachment``). Written and signed now for the caller's authority, which must be the
    one that issues it; not kept (POST keeps it). 404 when no step has issued it yet."""
    query = query_args(DocumentQuery)
    request = request_service().get(actor(), reference)
    service = document_service()
    lang = query.lang or service.language(request)
    pdf = service.render(request, actor(), document, lang, attachment_id=query.attachment)
    response = Response(pdf, content_type="application/pdf")
    name = service.filename(request, document, lang, query.attachment)
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@operation(
    bp,
    "POST",
    "/requests/{reference}/documents/{document}",
    summary="Issue a formal document again, as an evidence attachment",
    tag="documents",
    scope="evidence:write",
    query=DocumentQuery,
    responses={201: s.AttachmentOut},
)
def store_document(reference: str, document: str) -> Response:
    """As the GET, and kept as a new attachment of the request (encrypted, with custody),
    which the counterpart may list and download."""
    query = query_args(DocumentQuery)
    request = request_service().get(actor(), reference)
    service = document_service()
    lang = query.lang or service.language(request)
    stored = service.store(request, actor(), document, lang, attachment_id=query.attachment)
    return json_response(attachment_out(stored), 201)
