"""What the attack re-run of issue 12 found, each at the depth an attacker stands:
a ``next`` that a crafted link puts in the sign-in form, a search that a clerk types, and
clients that open connections to ``mla serve`` and never finish their headers."""

from __future__ import annotations

import socket
import time

import pytest
import requests

from mla import server
from tests.factories import PASSWORD
from tests.serving import serving
from tests.web.conftest import csrf


@pytest.mark.parametrize("target", ["/\r\nSet-Cookie: x=1", "/requests\n", "/requests\r"])
def test_a_next_with_a_line_break_goes_home_not_a_crash(client, world, target):
    # Python's urlsplit drops tabs and newlines before looking, so such a target once looked
    # like a path here and then made an invalid Location header: a 500 on every sign-in
    # reached through a crafted link.
    form = {"username": world.arg_clerk.username, "password": PASSWORD}
    response = client.post("/login", data={**form, "csrf_token": csrf(client), "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    # Signed in, the sign-in page sends on at once: the same target, the same answer.
    response = client.get("/login", query_string={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    response = client.post(
        "/language", data={"language": "es", "next": target, "csrf_token": csrf(client, "/")}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_an_underscore_in_a_search_is_the_character_not_a_wildcard(client, world, new_mla, login):
    # "Lavado_de" must not find "Lavado de": LIKE's "_" stands for any one character.
    new_mla(their_reference="CASE-UNDERSCORE")
    login(world.arg_clerk)
    assert "CASE-UNDERSCORE" in client.get("/requests?q=Lavado de").get_data(as_text=True)
    page = client.get("/requests?q=Lavado_de").get_data(as_text=True)
    assert "CASE-UNDERSCORE" not in page


def _stall(base: str, count: int, sent: bytes, answered: bool = False) -> list[socket.socket]:
    """``count`` connections that sent ``sent``, one after another; ``answered``: each was
    answered once first (the app fixture's database serves one request at a time)."""
    host, port = base.removeprefix("http://").split(":")
    stalled = []
    for _ in range(count):
        sock = socket.create_connection((host, int(port)), timeout=3)
        stalled.append(sock)
        sock.sendall(sent)
        if answered:
            assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
    return stalled


# Each kind of client that never finishes its headers: silent from the start, stopped in the
# middle, or one whole request (answered) and then half of the next on the same connection.
STALLS = {
    "silent": b"",
    "half": b"GET /healthz HTTP/1.1\r\nHost: x\r\n",
    "pipelined": b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\n",
}


@pytest.mark.parametrize("kind", STALLS)
def test_clients_that_never_finish_their_headers_do_not_hold_every_thread(app, kind):
    threads = 2
    with serving(app, threads=threads) as base:
        stalled = _stall(base, threads + 2, STALLS[kind], answered=kind == "pipelined")
        try:
            # A well-behaved client is still answered, long before any header timeout.
            response = requests.get(base + "/healthz", timeout=3)
            assert response.status_code == 200
        finally:
            for sock in stalled:
                sock.close()


def test_a_burst_of_connections_waits_to_be_accepted_and_is_held(app):
    # cheroot's listen backlog of 5 had the kernel drop most of a burst of connections.
    with serving(app, threads=2) as base:
        stalled = _stall(base, 200, b"")
        try:
            assert requests.get(base + "/healthz", timeout=3).status_code == 200
            for sock in stalled:
                sock.setblocking(False)
                with pytest.raises(BlockingIOError):  # open, and nothing said
                    sock.recv(1)
        finally:
            for sock in stalled:
                sock.close()


def test_headers_that_come_in_pieces_are_answered_and_a_stalled_client_is_closed(app, monkeypatch):
    monkeypatch.setattr(server, "HEADER_SECONDS", 1.0)
    with serving(app, threads=1) as base:
        (slow,) = _stall(base, 1, b"GET /healthz HTTP/1.1\r\nHo")
        (stalled,) = _stall(base, 1, b"GET /healthz HTTP/1.1\r\n")
        time.sleep(0.3)
        slow.sendall(b"st: x\r\nConnection: close\r\n\r\n")
        assert slow.recv(4096).startswith(b"HTTP/1.1 200 ")
        # The other never finished: closed without an answer once its time is up (1 s here),
        # where a request thread would have waited for 60 s of silence.
        assert stalled.recv(4096) == b""
        for sock in (slow, stalled):
            sock.close()


def test_headers_past_the_limit_are_refused_not_awaited(app):
    with serving(app, threads=1) as base:
        (sock,) = _stall(
            base, 1, b"GET /healthz HTTP/1.1\r\nX-Pad: " + b"a" * (server.HEADER_LIMIT + 600)
        )
        assert sock.recv(4096).startswith(b"HTTP/1.1 413 ")
        sock.close()
