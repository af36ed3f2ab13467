"""Text that came from outside reaches the operator's terminal with its control characters
escaped, in every listing: a webhook receiver's error answer in `mla notifications list`
(delivered by the real worker to a real receiver), an authority's name, a user's e-mail."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update
from sqlalchemy.orm import Session

from mla.authorities.models import Authority, Role, User
from mla.cli import cli
from mla.db import make_engine, utcnow
from mla.keyring import Keyring
from mla.notify.models import Channel, Notification
from mla.notify.subscriptions import SubscriptionService
from mla.requests.scope import Actor

# Sets the window title, clears the screen, and asks the terminal to put text in the
# clipboard (OSC 52); then a CSI of the 8-bit kind and a right-to-left override.
HOSTILE = "\x1b]0;owned\x07\x1b[2J\x1b]52;c;Y3VybCBldmls\x07\x9b31m\u202egnp.exe"


@pytest.fixture
def hostile_receiver() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            body = HOSTILE.encode()
            self.send_response(500)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def mla(migrated_database_url: str, tmp_path: Path):
    runner = CliRunner()
    env = {
        "MLA_INSTANCE_DIR": str(tmp_path / "instance"),
        "MLA_DATABASE_URL": migrated_database_url,
        "MLA_SECRET_KEY": "s" * 64,
        "MLA_WEBHOOK_ALLOW_PRIVATE": "1",
    }

    def run(*args: str):
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    assert run("init").exit_code == 0
    assert (
        run("authorities", "add", "ARG-DAJIN", "--country", "AR", "--name", "DAJIN").exit_code == 0
    )
    add_user = ("users", "add", "ana", "--authority", "ARG-DAJIN", "--role", "clerk",
                "--email", "ana@dajin.example.ar", "--password-stdin")  # fmt: skip
    assert runner.invoke(cli, add_user, env=env, input="correct-horse-42\n").exit_code == 0
    return run


def _assert_escaped(output: str) -> None:
    for char in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert char not in output
    assert "\\x1b]0;owned\\x07\\x1b[2J" in output


def test_a_receivers_error_answer_is_escaped_in_the_outbox_listing(
    mla, migrated_database_url, hostile_receiver, tmp_path
):
    keyring = Keyring.open(tmp_path / "instance" / "keyring.json")
    engine = make_engine(migrated_database_url)
    with Session(engine) as session:
        arg = session.query(Authority).filter_by(code="ARG-DAJIN").one()
        service = SubscriptionService(session, keyring=keyring, allow_private=True)
        sub, _ = service.add(Actor(authority=arg, role=Role.ADMIN), hostile_receiver)
        session.add(
            Notification(
                channel=Channel.WEBHOOK, event="request.state_changed", authority_id=arg.id,
                subscription_id=sub.id, payload={"reference": "X"}, next_attempt_at=utcnow(),
            )
        )  # fmt: skip
        session.commit()
    engine.dispose()
    assert "retrying 1" in mla("worker", "--once").output
    listing = mla("notifications", "list").output
    assert "answered 500" in listing
    _assert_escaped(listing)


def test_names_and_addresses_are_escaped_in_listings(mla, migrated_database_url):
    # As if written by another way in (an external state's intake, a directory sync).
    engine = make_engine(migrated_database_url)
    with Session(engine) as session, session.begin():
        session.execute(update(Authority).values(name=HOSTILE))
        session.execute(update(User).values(email=f"{HOSTILE}@dajin.example.ar"))
    engine.dispose()
    for listing in (mla("authorities", "list").output, mla("users", "list").output):
        _assert_escaped(listing)
        assert "\\x9b31m\\u202egnp.exe" in listing
