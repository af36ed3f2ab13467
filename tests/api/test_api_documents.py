"""Formal documents through the API: the letter of request issued on transmission, read by
the requested state; previews and re-issues in another language, by the issuer only."""

from __future__ import annotations

from pathlib import Path

from mla.documents.signing import verify
from tests.documents.conftest import text_of


def _files_holding(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_requested_state_lists_and_downloads_the_letter_of_request(api, submitted, app):
    listed = api.mex.get(f"/requests/{submitted}/attachments").json["items"]
    letters = [a for a in listed if a["filename"] == f"{submitted}-letter_of_request-es.pdf"]
    assert len(letters) == 1, listed
    download = api.mex.get(f"/requests/{submitted}/attachments/{letters[0]['id']}")
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/pdf"
    pdf = download.data
    download.close()
    verdict = verify(pdf)
    assert verdict.intact and verdict.valid
    assert "ARG-DAJIN" in verdict.signer
    text = text_of(pdf)
    assert submitted in text and "Solicitud de asistencia judicial recíproca" in text
    # Written in memory and streamed into the store: nothing on disk holds the plaintext.
    assert _files_holding(Path(app.config["MLA_INSTANCE_DIR"]), b"%PDF") == []
    assert _files_holding(Path(app.config["MLA_INSTANCE_DIR"]), submitted.encode()) == []


def test_each_step_issues_its_document_for_the_counterpart(api, submitted):
    before = api.mex.get(f"/requests/{submitted}/documents/acknowledgement")
    assert before.status_code == 404 and "acknowledgement" in before.json["detail"]
    assert api.mex.fire(submitted, "acknowledge").status_code == 200
    asked = api.mex.fire(submitted, "request_information", questions="¿Qué período?")
    assert asked.status_code == 200
    names = {a["filename"] for a in api.arg.get(f"/requests/{submitted}/attachments").json["items"]}
    assert {
        f"{submitted}-acknowledgement-es.pdf",
        f"{submitted}-information_request-es.pdf",
    } <= names


def test_preview_and_reissue_in_another_language(api, submitted):
    path = f"/requests/{submitted}/documents/letter_of_request"
    preview = api.arg.get(f"{path}?lang=fr")
    assert preview.status_code == 200 and preview.headers["Content-Type"] == "application/pdf"
    assert "Demande d'entraide judiciaire en matière pénale" in text_of(preview.data)
    stored = api.arg.post(f"{path}?lang=pt")
    assert stored.status_code == 201, stored.json
    assert stored.json["filename"] == f"{submitted}-letter_of_request-pt.pdf"
    listed = api.mex.get(f"/requests/{submitted}/attachments").json["items"]
    assert stored.json["id"] in [a["id"] for a in listed]


def test_only_the_issuing_authority_writes_its_documents(api, submitted):
    path = f"/requests/{submitted}/documents"
    forged = api.mex.post(f"{path}/letter_of_request?lang=en")
    assert forged.status_code == 403, forged.json
    assert api.col.get(f"{path}/letter_of_request").status_code == 404
    unknown = api.arg.get(f"{path}/love_letter")
    assert unknown.status_code == 422 and "document" in str(unknown.json)
    wrong = api.arg.get(f"{path}/letter_of_request?lang=de")
    assert wrong.status_code == 422 and "lang" in str(wrong.json)
    other = api.arg.get(f"{path}/provisional_arrest")
    assert other.status_code == 422


def test_certificate_of_custody(api, submitted):
    letter = api.mex.get(f"/requests/{submitted}/attachments").json["items"][0]
    api.mex.get(f"/requests/{submitted}/attachments/{letter['id']}").close()
    response = api.mex.get(f"/requests/{submitted}/documents/custody?attachment={letter['id']}")
    assert response.status_code == 200, response.json
    text = text_of(response.data)
    assert letter["sha256"] in text and letter["filename"] in text
    assert "Incorporado" in text and "Descargado" in text
