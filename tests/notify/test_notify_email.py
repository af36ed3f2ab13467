"""SMTP delivery against a real aiosmtpd server on 127.0.0.1, and SMTP URL parsing."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import closing, contextmanager
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from mla.errors import ConfigError
from mla.notify.channels import DeliveryError, SmtpSettings, parse_smtp_url, send_email


class Recorder:
    """aiosmtpd handler: refuses some recipients by address, keeps every accepted message."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user here"
        if address.startswith("busy@"):
            return "451 4.3.0 Mailbox temporarily unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(port: int | None = None) -> Iterator[tuple[Recorder, SmtpSettings]]:
    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=port or free_port())
    controller.start()
    try:
        yield handler, parse_smtp_url(f"smtp://127.0.0.1:{controller.port}?timeout=5")
    finally:
        controller.stop()


@pytest.fixture
def server() -> Iterator[tuple[Recorder, SmtpSettings]]:
    with smtp_server() as pair:
        yield pair


def send(settings: SmtpSettings, to: list[str], **kwargs: Any) -> str:
    fields: dict[str, Any] = {
        "sender": "Autoridad Central <mla@fiscalia.example.mx>",
        "subject": "Solicitud MLA-MEX-2026-00042: vence el plazo de recepción",
        "text_body": "Estimada señora Núñez:\nEl plazo vence el miércoles. ¿Podría confirmar?\n",
    }
    fields.update(kwargs)
    return send_email(settings, to=to, **fields)


def test_utf8_message_arrives_intact(server: tuple[Recorder, SmtpSettings]) -> None:
    handler, settings = server
    message_id = send(
        settings,
        ["clerk@cancilleria.example.ar"],
        html_body="<p>Estimada señora <b>Núñez</b>: el plazo vence el miércoles.</p>",
        headers={"X-MLA-Notification": "42", "Auto-Submitted": "auto-replied"},
    )
    [(mail_from, rcpt_tos, message)] = handler.messages
    assert mail_from == "mla@fiscalia.example.mx"
    assert rcpt_tos == ["clerk@cancilleria.example.ar"]
    assert message["Subject"] == "Solicitud MLA-MEX-2026-00042: vence el plazo de recepción"
    assert message["Message-ID"] == message_id
    assert message_id.startswith("<") and message_id.endswith("@fiscalia.example.mx>")
    assert message["Date"].datetime.tzinfo is not None
    assert message["X-MLA-Notification"] == "42"
    assert message.get_all("Auto-Submitted") == ["auto-replied"]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    # The wire is CRLF; the parser keeps it inside the quoted-printable body.
    assert text.get_content().replace("\r\n", "\n") == (
        "Estimada señora Núñez:\nEl plazo vence el miércoles. ¿Podría confirmar?\n"
    )
    assert "<b>Núñez</b>" in html.get_content()
    # Nothing 8-bit on the wire: relays without 8BITMIME accept it too.
    assert all(byte < 128 for byte in message.as_bytes())


def test_given_message_id_is_kept(server: tuple[Recorder, SmtpSettings]) -> None:
    handler, settings = server
    assert send(settings, ["a@example.org"], message_id="<n42.1@mla.example>") == (
        "<n42.1@mla.example>"
    )
    assert handler.messages[0][2]["Message-ID"] == "<n42.1@mla.example>"


def test_server_down_is_retryable_then_delivered_when_up() -> None:
    port = free_port()
    settings = parse_smtp_url(f"smtp://127.0.0.1:{port}?timeout=5")
    with pytest.raises(DeliveryError) as info:
        send(settings, ["clerk@example.org"])
    assert info.value.retryable
    with smtp_server(port) as (handler, _):
        send(settings, ["clerk@example.org"])
    assert len(handler.messages) == 1


def test_silent_server_times_out_as_retryable() -> None:
    # A listener that never accepts: the TCP handshake completes, the greeting never comes.
    with closing(socket.socket()) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        settings = parse_smtp_url(f"smtp://127.0.0.1:{port}?timeout=0.3")
        with pytest.raises(DeliveryError) as info:
            send(settings, ["clerk@example.org"])
    assert info.value.retryable


def test_rejected_recipient_is_permanent(server: tuple[Recorder, SmtpSettings]) -> None:
    handler, settings = server
    with pytest.raises(DeliveryError) as info:
        send(settings, ["nobody@example.org"])
    assert not info.value.retryable
    assert info.value.reply_code == 550
    assert "No such user" in info.value.message
    assert handler.messages == []


def test_temporarily_refused_recipient_is_retryable(server: tuple[Recorder, SmtpSettings]) -> None:
    _, settings = server
    with pytest.raises(DeliveryError) as info:
        send(settings, ["busy@example.org"])
    assert info.value.retryable and info.value.reply_code == 451


def test_partly_refused_is_permanent_but_others_got_it(
    server: tuple[Recorder, SmtpSettings],
) -> None:
    handler, settings = server
    with pytest.raises(DeliveryError) as info:
        send(settings, ["clerk@example.org", "nobody@example.org"])
    assert not info.value.retryable
    assert [rcpts for _, rcpts, _ in handler.messages] == [["clerk@example.org"]]


@pytest.mark.parametrize(
    ("kwargs", "to"),
    [
        ({"subject": "Asunto\r\nBcc: victim@example.org"}, ["clerk@example.org"]),
        ({"headers": {"X-Note": "a\nb"}}, ["clerk@example.org"]),
        ({"headers": {"From": "spoof@example.org"}}, ["clerk@example.org"]),
        ({}, []),
    ],
)
def test_malformed_message_is_permanent(
    server: tuple[Recorder, SmtpSettings], kwargs: dict[str, Any], to: list[str]
) -> None:
    handler, settings = server
    with pytest.raises(DeliveryError) as info:
        send(settings, to, **kwargs)
    assert not info.value.retryable
    assert handler.messages == []


# -- URL parsing ----------------------------------------------------------------------------


def test_parse_smtp_urls() -> None:
    plain = parse_smtp_url("smtp://mail.example.org")
    assert (plain.host, plain.port, plain.ssl, plain.starttls, plain.username) == (
        "mail.example.org", 25, False, False, None,
    )  # fmt: skip
    sub = parse_smtp_url("smtp://mla%40sre.gob.example:p%3Ass%2Fw@mail.example.org:587?starttls=1")
    assert (sub.port, sub.starttls, sub.username, sub.password) == (
        587, True, "mla@sre.gob.example", "p:ss/w",
    )  # fmt: skip
    implicit = parse_smtp_url("smtps://user:secret@mail.example.org?timeout=12.5")
    assert (implicit.port, implicit.ssl, implicit.timeout) == (465, True, 12.5)
    assert "secret" not in repr(implicit)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.example.org", "smtp:// or smtps://"),
        ("smtp://", "no host"),
        ("smtp://mail.example.org:99999", "not a valid URL"),
        ("smtp://mail.example.org:25/path", "path"),
        ("smtp://mail.example.org?starttls=maybe", "malformed option starttls"),
        ("smtp://mail.example.org?timeout=-1", "timeout"),
        ("smtp://mail.example.org?tls=1", "unknown"),
        ("smtps://mail.example.org?starttls=1", "already TLS"),
        ("smtp://user:hunter2@mail.example.org:25", "unencrypted"),
        ("smtp://:hunter2@mail.example.org?starttls=1", "no user name"),
    ],
)
def test_bad_smtp_urls(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_smtp_url(url)
    assert "hunter2" not in info.value.message
