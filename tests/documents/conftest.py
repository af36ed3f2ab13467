"""Fixtures for the documents: a signing folder, an evidence store and a request walked to
each step that issues a document."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import pypdf
import pytest

from mla.documents.service import DocumentService
from mla.documents.signing import SigningKeys
from mla.evidence.service import EvidenceService
from mla.evidence.storage import FilesystemStore
from mla.keyring import Keyring
from mla.requests.models import Request
from mla.requests.service import Actor

QUESTIONS = "Indique el número de la cuenta y el período exacto de los extractos."
REFUSAL_REASONS = "La medida afectaría una investigación reservada en curso en el Estado requerido."
POSTPONE_REASONS = "Una investigación interna en curso sobre las mismas cuentas."
USE_LIMITATION = "Solo para la causa 1234/2026 del Juzgado Federal de Rosario."
EXTRADITION = {
    "person_description": "Varón, 45 años, 1,80 m, cicatriz en la mano izquierda.",
    "probable_location": "Cancún, Quintana Roo",
    "facts": "Homicidio en Rosario, 12 de enero de 2026.",
    "laws_violated": "Art. 79 Código Penal",
    "warrant_or_judgment": "Orden de detención del Juzgado Federal de Rosario",
    "undertaking": True,
    "channel": "interpol",
    "laws_text": "Art. 79: 8 a 25 años de prisión; prescripción: 25 años.",
    "identification": "Fotografías y huellas dactilares adjuntas.",
}


def text_of(pdf: bytes) -> str:
    """The PDF's text with runs of white space made one space (lines wrap anywhere)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in reader.pages))


@pytest.fixture
def keys(tmp_path: Path) -> SigningKeys:
    return SigningKeys(tmp_path / "signing")


@pytest.fixture
def evidence(session, service, tmp_path, clock) -> EvidenceService:
    return EvidenceService(
        session,
        service,
        FilesystemStore(tmp_path / "evidence"),
        Keyring.open(tmp_path / "keyring.json"),
        max_bytes=8 << 20,
        clock=clock,
    )


@pytest.fixture
def docs(session, service, evidence, keys, clock) -> DocumentService:
    return DocumentService(session, service, evidence, keys, clock=clock)


@dataclass
class Walked:
    """Requests that have been through every step that issues a document."""

    refused: Request  # transmitted, acknowledged, asked for information, postponed, refused
    results: Request  # executed, results transmitted
    extradition: Request  # provisional arrest requested, then the formal request sent
    attachment_id: int  # a file on ``results``, uploaded, downloaded and verified


@pytest.fixture
def walked(service, world, received, new_mla, make_authority, evidence) -> Walked:
    arg, mex = world.actor(world.arg_clerk), world.actor(world.mex_clerk)
    mex_sup = world.actor(world.mex_supervisor)
    r = received
    service.fire(r, "acknowledge", mex)
    service.fire(r, "request_information", mex, {"questions": QUESTIONS})
    service.fire(r, "provide_information", arg, {"answer": "Cuenta 0123456789, 2023-2025."})
    service.fire(r, "pass_formal_review", mex)
    consult = {"subject": "possible_postponement", "reasons": POSTPONE_REASONS}
    service.fire(r, "open_consultation", mex, consult)
    service.fire(r, "postpone", mex_sup, {"reasons": POSTPONE_REASONS, "resume_date": "2026-06-01"})
    service.fire(r, "resume", mex)
    consult = {"subject": "possible_refusal", "reasons": REFUSAL_REASONS}
    service.fire(r, "open_consultation", mex, consult)
    refusal = {"grounds": ["essential_interests"], "reasons": REFUSAL_REASONS}
    service.fire(r, "refuse", mex_sup, refusal)

    x = new_mla(urgency="urgent", needed_by=None, their_reference="FR-2026-117")
    for user, event, inputs in (
        (world.arg_clerk, "submit_for_review", {}),
        (world.arg_supervisor, "sign", {}),
        (world.arg_clerk, "transmit", {}),
        (world.mex_clerk, "acknowledge", {}),
        (world.mex_clerk, "pass_formal_review", {}),
        (world.mex_clerk, "accept", {}),
        (world.mex_clerk, "assign", {"executing_authority": "MEX-FEMDO"}),
        (world.court_clerk, "start_execution", {}),
        (world.court_clerk, "complete_execution", {}),
    ):
        service.fire(x, event, world.actor(user), inputs)
    court = Actor.for_user(world.court_clerk)
    stored = evidence.upload(x, court, "extractos.pdf", io.BytesIO(b"%PDF-1.7\n" + b"x" * 5000))
    evidence.download(x, court, stored.id).close()
    evidence.verify(stored, court)
    service.fire(
        x,
        "transmit_results",
        mex_sup,
        {"use_limitation": USE_LIMITATION, "confidentiality": "Reservado hasta el juicio."},
    )

    e = service.create(
        arg, kind="extradition", requested_authority="MEX-FGR", legal_basis="iace",
        fields=dict(EXTRADITION), urgency="urgent",
    )  # fmt: skip
    service.fire(e, "request_provisional_arrest", arg)
    service.fire(e, "transmit_formal_request", arg)
    return Walked(refused=r, results=x, extradition=e, attachment_id=stored.id)
