"""Formal documents: letters of request, acknowledgements, refusals, certificates of custody,
written from a request's data in its language, signed (PAdES) and kept as evidence."""

from __future__ import annotations

from flask import Flask

from mla.audit.models import Event
from mla.requests.models import Request
from mla.requests.service import Actor, RequestService


def issue_on_step(requests: RequestService, request: Request, step: Event, actor: Actor) -> None:
    """The after-step hook: store the documents ``step`` issues (see
    :meth:`~mla.documents.service.DocumentService.on_step`)."""
    from mla.documents.service import document_service

    document_service(requests).on_step(request, step, actor)


def init_app(app: Flask) -> None:
    """Issue each step's documents as the step is taken, through the app's request service."""
    hooks = app.extensions.setdefault("mla.after_step", [])
    hooks.append(issue_on_step)
