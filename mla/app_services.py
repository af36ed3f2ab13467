"""Services built for the current Flask application from its settings: the adapters' edge.

Services take their settings when they are built; only this module (and the adapters) read
``flask.current_app``.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app

from mla.audit.models import Event
from mla.db import get_session
from mla.documents.service import DocumentService
from mla.documents.signing import SigningKeys
from mla.evidence.service import EvidenceService
from mla.evidence.storage import FilesystemStore
from mla.keyring import app_keyring
from mla.notify.service import NotificationService
from mla.notify.subscriptions import SubscriptionService
from mla.requests.models import Request
from mla.requests.service import Actor, RequestService

_BUILD_LOCK = threading.Lock()


def request_service() -> RequestService:
    """The request service of the current application context (web, API, CLI, worker), with
    its workflows, ``MLA_BASE_URL`` and the after-step hooks (``mla.after_step``: the formal
    documents a step issues)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return RequestService(
        get_session(),
        app.extensions["mla.engines"],
        base_url=app.config["MLA_BASE_URL"],
        after_step=app.extensions.get("mla.after_step", ()),
    )


def notification_service() -> NotificationService:
    """The notification service of the current application context (``MLA_BASE_URL``)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return NotificationService(
        get_session(), app.extensions["mla.engines"], base_url=app.config["MLA_BASE_URL"]
    )


def subscription_service() -> SubscriptionService:
    """The webhook subscription service of the current application context, from its
    settings (``MLA_WEBHOOK_ALLOW_PRIVATE``, ``MLA_WEBHOOK_MAX_SUBSCRIPTIONS``, the keyring of
    ``MLA_KEYRING_FILE``, opened only when a secret is sealed)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return SubscriptionService(
        get_session(),
        keyring=lambda: app_keyring(app),
        allow_private=bool(app.config["MLA_WEBHOOK_ALLOW_PRIVATE"]),
        most=int(app.config["MLA_WEBHOOK_MAX_SUBSCRIPTIONS"]),
    )


def evidence_service() -> EvidenceService:
    """The evidence service of the current application context, from its settings
    (``MLA_EVIDENCE_DIR``, ``MLA_KEYRING_FILE``, ``MLA_MAX_UPLOAD_MB``). The store and the
    keyring are opened once per app and shared by its threads."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _BUILD_LOCK:
        parts = app.extensions.get("mla.evidence")
        if parts is None:
            parts = (FilesystemStore(app.config["MLA_EVIDENCE_DIR"]), app_keyring(app))
            app.extensions["mla.evidence"] = parts
    store, keyring = parts
    return EvidenceService(
        get_session(),
        request_service(),
        store,
        keyring,
        max_bytes=int(app.config["MLA_MAX_UPLOAD_MB"]) << 20,
    )


def signing_keys(app: Flask) -> SigningKeys:
    """The signing keys of ``app`` (``MLA_SIGNING_DIR``), opened once."""
    with _BUILD_LOCK:
        keys = app.extensions.get("mla.signing")
        if keys is None:
            keys = app.extensions["mla.signing"] = SigningKeys(app.config["MLA_SIGNING_DIR"])
    assert isinstance(keys, SigningKeys)
    return keys


def document_service(requests: RequestService | None = None) -> DocumentService:
    """The document service of the current application context (over ``requests``, the
    request service taking a step, when given: the same session and unit of work)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    evidence = evidence_service()
    if requests is not None:
        evidence = EvidenceService(
            requests.session,
            requests,
            evidence.store,
            evidence.keyring,
            max_bytes=evidence.max_bytes,
        )
    return DocumentService(
        evidence.session,
        evidence.requests,
        evidence,
        signing_keys(app),
        templates=str(app.config.get("MLA_DOCUMENT_TEMPLATES") or ""),
    )


def issue_documents(requests: RequestService, request: Request, step: Event, actor: Actor) -> None:
    """The app's after-step hook: store the documents ``step`` issues (see
    :meth:`~mla.documents.service.DocumentService.on_step`)."""
    document_service(requests).on_step(request, step, actor)
