"""The web evidence upload: read from the body as a stream, its CSRF token from the header or
from the form field sent before the file, never by parsing the form (which spools files)."""

from __future__ import annotations

from sqlalchemy import select

from mla.evidence.models import Attachment

PDF = b"%PDF-1.4\n" + b"evidence " * 5_000


def _body(parts: list[tuple[str, str | tuple[bytes, str]]]) -> bytes:
    """A multipart body with its parts in this order (the test client puts fields before
    files, and spools a large body to a temporary file of its own)."""
    out = b""
    for name, value in parts:
        if isinstance(value, tuple):
            content, filename = value
            out += (
                (
                    f'--b\r\nContent-Disposition: form-data; name="{name}"; '
                    f'filename="{filename}"\r\n\r\n'
                ).encode()
                + content
                + b"\r\n"
            )
        else:
            out += (
                f'--b\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            )
    return out + b"--b--\r\n"


def _post(client, reference, parts, path="evidence", **kwargs):
    return client.post(
        f"/requests/{reference}/{path}",
        data=_body(parts),
        content_type="multipart/form-data; boundary=b",
        **kwargs,
    )


def _stored(session, request) -> list[Attachment]:
    return list(session.scalars(select(Attachment).where(Attachment.request_id == request.id)))


def test_the_form_uploads_with_its_token_before_the_file(client, session, world, received, login):
    token = login(world.mex_clerk)
    response = _post(client, received.reference, [("csrf_token", token), ("file", (PDF, "a.pdf"))])
    assert response.status_code == 303
    [attachment] = _stored(session, received)
    assert attachment.filename == "a.pdf" and attachment.size == len(PDF)
    page = client.get(f"/requests/{received.reference}").get_data(as_text=True)
    assert "Uploaded a.pdf." in page


def test_the_upload_script_sends_its_token_as_a_header(client, session, world, received, login):
    token = login(world.mex_clerk)
    response = _post(
        client,
        received.reference,
        [("file", (PDF, "b.pdf"))],
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )
    assert response.status_code == 200 and response.json["ok"] is True
    assert [a.filename for a in _stored(session, received)] == ["b.pdf"]


def test_a_missing_or_late_token_is_refused_and_nothing_is_stored(
    client, session, world, received, login
):
    token = login(world.mex_clerk)
    assert _post(client, received.reference, [("file", (PDF, "c.pdf"))]).status_code == 400
    # Only fields before the file count: the token after it is never read.
    late = [("file", (PDF, "c.pdf")), ("csrf_token", token)]
    assert _post(client, received.reference, late).status_code == 400
    wrong = [("csrf_token", "forged"), ("file", (PDF, "c.pdf"))]
    assert _post(client, received.reference, wrong).status_code == 400
    assert _stored(session, received) == []


def test_no_file_is_a_form_error_in_the_users_language(client, session, world, received, login):
    world.mex_clerk.language = "es"
    session.flush()
    token = login(world.mex_clerk)
    response = _post(client, received.reference, [("csrf_token", token), ("file", (b"", ""))])
    assert response.status_code == 303
    page = client.get(f"/requests/{received.reference}").get_data(as_text=True)
    assert "No se hizo: file: elija un archivo para subir" in page
    assert _stored(session, received) == []


def test_the_limit_is_a_form_error_in_the_users_language(
    app, client, session, world, received, login
):
    app.config["MLA_MAX_UPLOAD_MB"] = 1
    world.mex_clerk.language = "fr"
    session.flush()
    token = login(world.mex_clerk)
    big = b"%PDF-1.4\n" + bytes(3 << 20)
    response = _post(client, received.reference, [("csrf_token", token), ("file", (big, "d.pdf"))])
    assert response.status_code == 303
    page = client.get(f"/requests/{received.reference}").get_data(as_text=True)
    assert "Non effectué : file: le fichier dépasse la limite de 1 Mio" in page
    assert _stored(session, received) == []


def test_other_views_refuse_a_multipart_body_unparsed(client, world, received, login):
    token = login(world.mex_clerk)
    parts = [("csrf_token", token), ("file", (PDF, "e.pdf"))]
    response = _post(client, received.reference, parts, path="events/acknowledge")
    assert response.status_code == 415
