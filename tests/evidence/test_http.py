"""Serving a download: headers, and a damaged blob aborting the response, never a short file."""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
from urllib.parse import quote

import pytest
from flask import Flask

from mla.errors import IntegrityError
from mla.evidence.http import content_disposition, download_response
from mla.requests.service import Actor
from tests.serving import serving

DATA = os.urandom((2 << 20) + 777)


def serving_app(download) -> Flask:
    app = Flask(__name__)
    app.add_url_rule("/evidence", "evidence", lambda: download_response(download))
    return app


@pytest.fixture
def attachment(upload, received):
    return upload(received, DATA, 'Extracto bancario \u2013 año 2025 "final".pdf')


def open_download(evidence, received, world, attachment):
    return evidence.download(received, Actor.for_user(world.mex_clerk), attachment.id)


def damage(store, attachment) -> None:
    path = store.root / attachment.storage_key[:2] / attachment.storage_key
    data = bytearray(path.read_bytes())
    data[(2 << 20) + 300] ^= 0x80  # inside segment 2: two segments go out first
    path.write_bytes(bytes(data))


def test_headers_and_body(evidence, received, world, attachment):
    download = open_download(evidence, received, world, attachment)
    response = serving_app(download).test_client().get("/evidence")
    assert response.status_code == 200
    assert response.get_data() == DATA
    digest = base64.b64encode(hashlib.sha256(DATA).digest()).decode()
    assert response.headers["Repr-Digest"] == f"sha-256=:{digest}:"
    assert response.headers["Digest"] == f"sha-256={digest}"
    assert response.headers["Content-Length"] == str(len(DATA))
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Extracto bancario _ a_o 2025 _final_.pdf"')
    assert disposition.endswith(
        "filename*=UTF-8''" + quote('Extracto bancario \u2013 año 2025 "final".pdf', safe="")
    )


def test_content_disposition_never_lets_a_name_break_out():
    value = content_disposition('a";\r\nSet-Cookie: x=1.pdf')
    assert "\r" not in value and "\n" not in value
    assert value.count('"') == 2


def test_a_damaged_blob_raises_in_the_test_client(evidence, received, world, attachment, store):
    damage(store, attachment)
    download = open_download(evidence, received, world, attachment)
    response = serving_app(download).test_client().get("/evidence")
    with pytest.raises(IntegrityError):
        response.get_data()


def test_a_damaged_blob_aborts_the_connection_on_a_real_server(
    evidence, received, world, attachment, store
):
    damage(store, attachment)
    download = open_download(evidence, received, world, attachment)
    with serving(serving_app(download)) as url:
        conn = http.client.HTTPConnection(url.removeprefix("http://"), timeout=30)
        try:
            conn.request("GET", "/evidence")
            response = conn.getresponse()
            assert response.status == 200  # the headers went out before the damage was read
            assert response.headers["Content-Length"] == str(len(DATA))
            with pytest.raises(http.client.IncompleteRead) as exc:
                response.read()
            assert len(exc.value.partial) == 2 << 20  # exactly the verified segments
            assert exc.value.partial == DATA[: 2 << 20]
        finally:
            conn.close()
