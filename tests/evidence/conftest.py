"""Fixtures for the evidence service: a store in the test's folder (the keyring is the root
conftest's, in the same folder)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from mla.evidence.models import Attachment
from mla.evidence.service import EvidenceService
from mla.evidence.storage import FilesystemStore
from mla.requests.models import Request
from mla.requests.service import Actor

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40  # sniffed as a PDF, spans no segment boundary
LIMIT = 3 << 20  # a small upload limit, so the tests cross it cheaply


def files_under(root: Path) -> list[Path]:
    """Every file in the store, temporary ones included."""
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def store(tmp_path: Path) -> FilesystemStore:
    return FilesystemStore(tmp_path / "evidence")


@pytest.fixture
def evidence(session, service, store, keyring, clock) -> EvidenceService:
    return EvidenceService(session, service, store, keyring, max_bytes=LIMIT, clock=clock)


@pytest.fixture
def upload(evidence, world) -> Callable[..., Attachment]:
    """Upload ``data`` (default: a small PDF) to ``request`` as ``user`` (default: MEX clerk)."""

    def do(request: Request, data: bytes = PDF, name: str = "extracto.pdf", user=None):
        actor = Actor.for_user(user or world.mex_clerk)
        return evidence.upload(request, actor, name, io.BytesIO(data))

    return do
