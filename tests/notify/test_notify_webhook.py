"""Signed webhooks against a real HTTP server on 127.0.0.1; signatures; the retry policy."""

from __future__ import annotations

import json
import random
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mla.notify.channels import (
    MAX_ATTEMPTS,
    DeliveryError,
    backoff,
    next_retry,
    post_webhook,
    sign,
    verify,
)

SECRET = b"s3cr3t-shared-with-the-requesting-state"
BODY = json.dumps({"reference": "MLA-MEX-2026-00042", "state": "en_ejecución"}).encode()


@dataclass
class Receiver:
    """What the test server answers, and what it received."""

    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    received: list[tuple[str, Message, bytes]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append((self.path, self.headers, body))
            self.send_response(state.status)
            for name, value in state.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"no")

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/mla?token=abc"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def post(url: str, **kwargs: object) -> int:
    args: dict[str, object] = {"event_type": "request.state_changed", "delivery_id": "d-42"}
    args.update(kwargs)
    return post_webhook(url, SECRET, body=BODY, **args)  # type: ignore[arg-type]


def test_delivered_and_verifiable(receiver: Receiver) -> None:
    assert post(receiver.url) == 204
    [(path, headers, body)] = receiver.received
    assert path == "/hooks/mla?token=abc"
    assert body == BODY
    assert headers["Content-Type"] == "application/json"
    # Header names are case-insensitive (RFC 9110); receivers look them up as such.
    assert headers["X-MLA-Event"] == "request.state_changed"
    assert headers["X-MLA-Delivery"] == "d-42"
    assert abs(int(headers["X-MLA-Timestamp"]) - time.time()) < 5
    assert headers["X-MLA-Signature"].startswith("v1=")
    assert verify(SECRET, headers["X-MLA-Timestamp"], body, headers["X-MLA-Signature"])
    assert not verify(
        b"another secret", headers["X-MLA-Timestamp"], body, headers["X-MLA-Signature"]
    )


def test_server_error_is_retryable_with_retry_after(receiver: Receiver) -> None:
    receiver.status = 503
    receiver.headers = {"Retry-After": "120"}
    with pytest.raises(DeliveryError) as info:
        post(receiver.url)
    assert info.value.retryable and info.value.reply_code == 503
    assert info.value.retry_after == timedelta(seconds=120)
    assert "token=abc" not in info.value.message  # the query string may hold a secret


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(500, True), (502, True), (429, True), (408, True), (400, False), (404, False), (410, False)],
)
def test_status_classification(receiver: Receiver, status: int, retryable: bool) -> None:
    receiver.status = status
    with pytest.raises(DeliveryError) as info:
        post(receiver.url)
    assert info.value.retryable is retryable
    assert info.value.reply_code == status


def test_redirects_are_not_followed(receiver: Receiver) -> None:
    receiver.status = 302
    receiver.headers = {"Location": "file:///etc/passwd"}
    with pytest.raises(DeliveryError, match="redirect") as info:
        post(receiver.url)
    assert not info.value.retryable
    assert len(receiver.received) == 1  # only the original POST


def test_pinned_addresses_are_used_and_the_name_is_kept(receiver: Receiver) -> None:
    # .invalid never resolves (RFC 6761): delivery succeeds only because it connects to the
    # vetted addresses given, the first of which refuses, without resolving the name again.
    port = receiver.url.split(":")[2].split("/")[0]
    url = f"http://hooks.invalid:{port}/hooks/mla"
    assert post(url, addresses=["127.0.0.2", "127.0.0.1"]) == 204
    [(path, headers, _body)] = receiver.received
    assert path == "/hooks/mla"
    assert headers["Host"] == f"hooks.invalid:{port}"


@pytest.mark.parametrize("pinned", [None, ["::1"]])
def test_an_ipv6_literal_url_is_delivered(pinned: list[str] | None) -> None:
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            hosts.append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6

    server = Server(("::1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        assert post(f"http://[::1]:{port}/hooks?token=abc", addresses=pinned) == 204
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert hosts == [f"[::1]:{port}"]


def test_an_ipv6_literal_without_a_port_goes_to_the_schemes_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dialled: list[tuple[str, int]] = []

    def connect(address: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
        dialled.append(address)  # record instead of sending anything off this machine
        raise ConnectionRefusedError("refused by the test")

    monkeypatch.setattr(socket, "create_connection", connect)
    with pytest.raises(DeliveryError, match=r"https://\[2001:db8::1\]/hook") as info:
        post("https://[2001:db8::1]/hook")
    assert info.value.retryable
    assert dialled == [("2001:db8::1", 443)]


def _certificates(folder: Path, name: str) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for ``name`` signed by it: (ca, cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def subject(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    now = datetime.now(UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(subject("mla test CA")).issuer_name(subject("mla test CA"))
        .public_key(ca_key.public_key()).serial_number(1)
        .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    cert = (
        x509.CertificateBuilder().subject_name(subject(name)).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(2)
        .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.mark.parametrize("certified", ["hooks.invalid", "other.invalid"])
def test_https_to_a_pinned_address_checks_the_certificate_for_the_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, certified: str
) -> None:
    # A TLS receiver with a certificate for `certified` from a CA that the default context
    # trusts through SSL_CERT_FILE. Connecting to the pinned address must still send the
    # name (SNI) and verify the certificate against it.
    ca, cert, key = _certificates(tmp_path, certified)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)
    paths: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            paths.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"https://hooks.invalid:{server.server_address[1]}/hooks/mla"
    try:
        if certified == "hooks.invalid":
            assert post(url, addresses=["127.0.0.1"]) == 204
            assert paths == ["/hooks/mla"]
        else:
            with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED") as info:
                post(url, addresses=["127.0.0.1"])
            assert info.value.retryable and paths == []
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert names == ["hooks.invalid"]


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/", "http://", "x",
     "http://127.0.0.1:99999/", "http://127.0.0.1/a b", "http://bücher.example/"],
)  # fmt: skip
def test_non_http_urls_are_refused(url: str) -> None:
    with pytest.raises(DeliveryError) as info:
        post(url)
    assert not info.value.retryable


@pytest.mark.parametrize(
    "headers", [{"event_type": "a\r\nX-Evil: 1"}, {"delivery_id": "ñ"}, {"delivery_id": ""}]
)
def test_bad_header_values_are_refused(receiver: Receiver, headers: dict[str, str]) -> None:
    with pytest.raises(DeliveryError) as info:
        post(receiver.url, **headers)
    assert not info.value.retryable
    assert receiver.received == []


def test_connection_refused_is_retryable() -> None:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DeliveryError) as info:
        post(f"http://127.0.0.1:{port}/")
    assert info.value.retryable


def test_timeout_is_retryable() -> None:
    with closing(socket.socket()) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # never accepted: connects, then no answer
        port = listener.getsockname()[1]
        with pytest.raises(DeliveryError) as info:
            post(f"http://127.0.0.1:{port}/", timeout=0.3)
    assert info.value.retryable


# -- signatures -----------------------------------------------------------------------------


def test_sign_is_hmac_sha256_over_timestamp_dot_body() -> None:
    # Fixed vector (from `openssl dgst -sha256 -hmac key`) for receivers in other languages.
    assert sign(b"key", 1700000000, b'{"a":1}') == (
        "a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03"
    )
    with pytest.raises(ValueError):
        sign(b"", 1700000000, b"")


def test_tampered_body_fails() -> None:
    ts = 1_700_000_000
    header = f"v1={sign(SECRET, ts, BODY)}"
    assert verify(SECRET, ts, BODY, header, now=ts)
    assert not verify(SECRET, ts, BODY.replace(b"00042", b"00043"), header, now=ts)
    assert not verify(SECRET, ts + 1, BODY, header, now=ts)  # timestamp is signed too


def test_stale_or_future_timestamp_fails() -> None:
    ts = 1_700_000_000
    header = f"v1={sign(SECRET, ts, BODY)}"
    assert verify(SECRET, ts, BODY, header, now=ts + 300)
    assert not verify(SECRET, ts, BODY, header, now=ts + 301)
    assert not verify(SECRET, ts, BODY, header, now=ts - 301)
    assert verify(SECRET, ts, BODY, header, tolerance=3600, now=ts + 3000)


@pytest.mark.parametrize(
    ("timestamp", "header"),
    [("abc", "v1=00"), (1_700_000_000, ""), (1_700_000_000, "v2=abc"), (None, "v1="),
     (1_700_000_000, "v1=ñandú"), (1_700_000_000, None)],
)  # fmt: skip
def test_malformed_input_is_false_not_an_error(timestamp: object, header: str) -> None:
    assert not verify(SECRET, timestamp, BODY, header, now=1_700_000_000)  # type: ignore[arg-type]


def test_rotation_accepts_any_listed_signature() -> None:
    ts = 1_700_000_000
    header = f"v1={sign(b'old secret', ts, BODY)}, v1={sign(SECRET, ts, BODY)}"
    assert verify(SECRET, ts, BODY, header, now=ts)
    assert verify(b"old secret", ts, BODY, header, now=ts)
    assert not verify(b"third", ts, BODY, header, now=ts)


# -- retry policy ---------------------------------------------------------------------------


def test_backoff_grows_with_full_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    for attempt in range(1, 30):
        ceiling = min(6 * 3600, 60 * 2 ** (attempt - 1))
        delays = [backoff(attempt, rng=rng).total_seconds() for _ in range(50)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # really spread over the range
    assert backoff(3, rng=random.Random(1)) == backoff(3, rng=random.Random(1))
    with pytest.raises(ValueError):
        backoff(0)


def test_next_retry() -> None:
    temporary = DeliveryError("down", retryable=True)
    permanent = DeliveryError("gone", retryable=False)
    assert next_retry(1, temporary) is not None
    assert next_retry(MAX_ATTEMPTS - 1, temporary) is not None
    assert next_retry(MAX_ATTEMPTS, temporary) is None
    assert next_retry(1, permanent) is None
    asked = DeliveryError("slow down", retryable=True, retry_after=timedelta(minutes=30))
    assert next_retry(1, asked, rng=random.Random(0)) == timedelta(minutes=30)
