"""Services built for the current Flask application from its settings: the adapters' edge.

Services take their settings when they are built; only this module (and the adapters) read
``flask.current_app``.
"""

from __future__ import annotations

import threading

from flask import current_app

from mla.db import get_session
from mla.evidence.service import EvidenceService
from mla.evidence.storage import FilesystemStore
from mla.keyring import app_keyring
from mla.requests.service import request_service

_BUILD_LOCK = threading.Lock()


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
