"""Fixtures for the evidence service: a store and keyring in the test's folder."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from mla.authorities import service as authorities
from mla.authorities.models import User
from mla.evidence.models import Attachment
from mla.evidence.service import EvidenceService
from mla.evidence.storage import FilesystemStore
from mla.keyring import Keyring
from mla.requests.models import Request
from mla.requests.service import Actor, RequestService
from tests.conftest import MLA_FIELDS

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40  # sniffed as a PDF, spans no segment boundary
LIMIT = 3 << 20  # a small upload limit, so the tests cross it cheaply


def files_under(root: Path) -> list[Path]:
    """Every file in the store, temporary ones included."""
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def store(tmp_path: Path) -> FilesystemStore:
    return FilesystemStore(tmp_path / "evidence")


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    return Keyring.open(tmp_path / "keyring.json")


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


def seed_request(session: Session, requests: RequestService, role: str) -> tuple[Request, User]:
    """ARG-DAJIN and MEX-FGR, an ARG-DAJIN user ``arg`` of ``role``, and an MLA request of
    theirs to MEX-FGR (a draft): what the tests on a database of their own start from."""
    authorities.add_authority(session, "ARG-DAJIN", country="AR", name="DAJIN")
    authorities.add_authority(session, "MEX-FGR", country="MX", name="FGR", languages=["es"])
    user = authorities.add_user(
        session, "arg", authority_code="ARG-DAJIN", role=role,
        email="arg@example.org", password="correct-horse-42",
    )  # fmt: skip
    request = requests.create(
        Actor.for_user(user), kind="mla", requested_authority="MEX-FGR",
        legal_basis="untoc-18", fields=dict(MLA_FIELDS),
    )  # fmt: skip
    return request, user
