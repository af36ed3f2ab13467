"""Formal documents on the request page: preview in another language, keep as evidence; the
page prints as a file record."""

from __future__ import annotations

from sqlalchemy import select

from mla.evidence.models import Attachment
from tests.documents.conftest import text_of


def test_preview_and_keep_a_letter_from_the_request_page(client, session, world, received, login):
    token = login(world.arg_clerk)
    page = client.get(f"/requests/{received.reference}").get_data(as_text=True)
    assert 'id="documents"' in page and 'value="letter_of_request"' in page
    form = {"csrf_token": token, "document": "letter_of_request", "lang": "fr"}
    preview = client.post(f"/requests/{received.reference}/documents/preview", data=form)
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    text = text_of(preview.data)
    assert "Demande d'entraide judiciaire en matière pénale" in text
    assert received.reference in text
    kept = client.post(f"/requests/{received.reference}/documents", data=form | {"lang": "pt"})
    assert kept.status_code == 303
    names = session.scalars(select(Attachment.filename).where(Attachment.request_id == received.id))
    assert f"{received.reference}-letter_of_request-pt.pdf" in list(names)


def test_the_requested_side_cannot_write_the_requesting_side_s_letter(
    client, world, received, login
):
    token = login(world.mex_clerk)
    page = client.get(f"/requests/{received.reference}").get_data(as_text=True)
    assert 'value="letter_of_request"' not in page
    form = {"csrf_token": token, "document": "letter_of_request", "lang": "es"}
    response = client.post(f"/requests/{received.reference}/documents", data=form)
    assert response.status_code in (302, 303, 403)
    listed = client.get(f"/requests/{received.reference}").get_data(as_text=True)
    assert "letter_of_request-es.pdf" not in listed


def test_the_request_page_prints_without_navigation_or_diagram(client, world, received, login):
    login(world.arg_clerk)
    page = client.get(f"/requests/{received.reference}").get_data(as_text=True)
    assert 'media="print"' in page and "css/print.css" in page
    assert 'class="panel diagram no-print"' in page
    response = client.get("/assets/css/print.css")
    css = response.get_data(as_text=True)
    response.close()
    hidden = css.split("{ display: none !important; }")[0]
    for selector in ("header.top", "nav", "form", ".diagram", ".no-print"):
        assert selector in hidden
