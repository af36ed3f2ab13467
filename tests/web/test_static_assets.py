"""Static files over HTTP, from the server `mla serve` runs: fingerprinted URLs cached for a
year, gzip when the client takes it, revalidation otherwise, and a favicon."""

from __future__ import annotations

import gzip
import http.client
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.serving import serving


@pytest.fixture
def base(app) -> Iterator[str]:
    with serving(app) as url:
        yield url


def get(base: str, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src|data-src)="(/assets/[^"]+)"', html)


def test_pages_link_fingerprinted_assets_cached_for_a_year_and_gzipped(base, client, world, login):
    login(world.mex_clerk)
    html = client.get("/").get_data(as_text=True)
    urls = asset_urls(html)
    css = next(u for u in urls if u.startswith("/assets/css/mla.css"))
    assert re.fullmatch(r"/assets/css/mla\.css\?v=[0-9a-f]{16}", css), css

    status, headers, body = get(base, css, **{"Accept-Encoding": "gzip, br"})
    assert status == 200
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers["content-encoding"] == "gzip"
    assert headers["vary"] == "Accept-Encoding"
    assert headers["content-type"].startswith("text/css")
    plain = gzip.decompress(body)
    assert b"--accent" in plain

    # A client that does not take gzip gets the same bytes uncompressed.
    status, headers, body = get(base, css)
    assert status == 200 and "content-encoding" not in headers and body == plain

    # Without the hash, or with an old one, the file must be revalidated; the ETag answers 304.
    for path in ("/assets/css/mla.css", "/assets/css/mla.css?v=0000000000000000"):
        status, headers, _ = get(base, path)
        assert status == 200 and headers["cache-control"] == "no-cache"
        etag = headers["etag"]
        status, _, body = get(base, path, **{"If-None-Match": etag})
        assert status == 304 and body == b""


def test_the_diagram_script_is_served_compressed(base):
    from mla.web.assets import FILES

    name = "vendor/mermaid/mermaid.min.js"
    digest = FILES.digest(name)
    status, headers, body = get(base, f"/assets/{name}?v={digest}", **{"Accept-Encoding": "gzip"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert headers["content-type"].startswith("text/javascript")
    assert "immutable" in headers["cache-control"]
    assert len(body) < 1_200_000  # 3.5 MB of script


def test_favicon_and_unknown_or_escaping_paths(base, client):
    status, headers, body = get(base, "/favicon.ico")
    assert status == 200 and body[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert headers["cache-control"] == "public, max-age=86400"
    html = client.get("/login").get_data(as_text=True)
    assert 'rel="icon"' in html
    assert get(base, "/assets/nothing.css")[0] == 404
    assert get(base, "/assets/../__init__.py")[0] == 404
    assert get(base, "/assets/%2e%2e/blueprint.py")[0] == 404
