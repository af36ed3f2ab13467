"""Evidence and webhook subscriptions through the API."""

from __future__ import annotations

import base64
import hashlib
import io

import pytest

PDF = b"%PDF-1.4\n" + b"evidence " * 20_000


def _upload(caller, reference, content=PDF, name="extracto.pdf", field="file"):
    return caller.post(
        f"/requests/{reference}/attachments",
        data={field: (io.BytesIO(content), name), "note": "ignored"},
        content_type="multipart/form-data",
    )


def test_upload_list_and_download_round_trip(api, submitted):
    response = _upload(api.arg, submitted)
    assert response.status_code == 201, response.json
    meta = response.json
    assert meta["filename"] == "extracto.pdf" and meta["size"] == len(PDF)
    assert meta["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert meta["media_type"] == "application/pdf"
    listed = api.mex.get(f"/requests/{submitted}/attachments").json["items"]
    # After the letter of request that transmission issued (mla.documents).
    assert [a["filename"] for a in listed] == [
        f"{submitted}-letter_of_request-es.pdf",
        "extracto.pdf",
    ]
    assert listed[-1]["id"] == meta["id"]
    download = api.mex.get(f"/requests/{submitted}/attachments/{meta['id']}")
    assert download.status_code == 200
    assert download.data == PDF
    digest = base64.b64encode(hashlib.sha256(PDF).digest()).decode()
    assert download.headers["Repr-Digest"] == f"sha-256=:{digest}:"
    download.close()


def test_upload_errors_are_problems(api, submitted):
    path = f"/requests/{submitted}/attachments"
    response = api.arg.post(path, data=b"raw", content_type="application/pdf")
    assert response.status_code == 415 and response.mimetype == "application/problem+json"
    response = _upload(api.arg, submitted, content=b"%PDF-1.4 small", field="document")
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "file"
    response = _upload(api.arg, submitted, content=b"")
    assert response.status_code == 422
    response = api.arg.post(
        path,
        data=b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nab',
        content_type="multipart/form-data; boundary=xyz",
    )
    assert response.status_code == 400
    assert api.arg.get(f"{path}/999999").status_code == 404
    assert api.arg.get(f"{path}/abc").status_code == 404


def test_upload_streams_without_reading_the_body_whole(api, submitted, monkeypatch):
    """The request body is read in bounded chunks while the evidence service writes."""
    from mla.evidence import multipart

    sizes: list[int] = []
    real = multipart.MultipartFile.__init__

    def spy(self, stream, boundary, field="file"):
        class Counting:
            def read(self_inner, n=-1):
                assert n > 0  # never "read everything"
                chunk = stream.read(n)
                sizes.append(len(chunk))
                return chunk

        real(self, Counting(), boundary, field)

    monkeypatch.setattr(multipart.MultipartFile, "__init__", spy)
    assert _upload(api.arg, submitted).status_code == 201
    assert len(sizes) > 2 and max(sizes) <= multipart.CHUNK


@pytest.fixture
def public_hooks(app):
    app.config["MLA_WEBHOOK_ALLOW_PRIVATE"] = True  # no DNS in tests


def test_subscriptions_are_per_authority(api, world, public_hooks):
    arg, col = api.issue(world.arg, "admin"), api.issue(world.col, "admin")
    created = arg.post(
        "/subscriptions", json={"url": "https://cms.example.org/hook", "events": None}
    )
    assert created.status_code == 201, created.json
    body = created.json
    assert body["secret"] and body["active"] is True
    listed = arg.get("/subscriptions").json["items"]
    assert [s["id"] for s in listed] == [body["id"]] and "secret" not in listed[0]
    assert col.get("/subscriptions").json["items"] == []
    assert col("DELETE", f"/subscriptions/{body['id']}").status_code == 404
    assert arg("DELETE", f"/subscriptions/{body['id']}").status_code == 204
    assert arg.get("/subscriptions").json["items"] == []
    bad = arg.post("/subscriptions", json={"url": "ftp://x", "events": ["nope"]})
    assert bad.status_code == 422


def test_a_file_over_the_limit_is_413_naming_the_field(api, app, submitted):
    app.config["MLA_MAX_UPLOAD_MB"] = 1
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n\r\n'
        + PDF * 20
        + b"\r\n--b--\r\n"
    )
    response = api.arg.post(
        f"/requests/{submitted}/attachments",
        data=body,
        content_type="multipart/form-data; boundary=b",
    )
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert response.json["errors"] == [
        {"field": "file", "message": "the file is larger than the 1 MiB limit", "code": "invalid"}
    ]
    # Only the letter of request that transmission issued: nothing of the big file.
    listed = api.arg.get(f"/requests/{submitted}/attachments").json["items"]
    assert [a["filename"] for a in listed] == [f"{submitted}-letter_of_request-es.pdf"]
