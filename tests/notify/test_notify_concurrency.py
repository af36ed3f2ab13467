"""Two worker processes share one outbox, on SQLite and on PostgreSQL: every message reaches
the (real, loopback) SMTP server exactly once, and every row ends sent."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mla.authorities import service as authorities
from mla.db import make_engine
from mla.notify.models import Channel, Notification, Status
from tests.notify.test_notify_dispatch import KEY, free_port, smtp_server
from tests.workers import run_worker_passes

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)
MESSAGES = 60


def _populate(url: str) -> None:
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        arg = authorities.add_authority(session, "ARG-DAJIN", country="AR", name="Argentina")
        session.add_all(
            Notification(
                channel=Channel.EMAIL,
                event="deadline.escalated",
                authority_id=arg.id,
                address=f"clerk{n}@dajin.example.ar",
                subject=f"Reminder {n}",
                payload={"text": f"Reminder {n}"},
                next_attempt_at=NOW,
            )
            for n in range(MESSAGES)
        )
    engine.dispose()


def test_two_dispatchers_send_each_message_once(
    backend: str, migrated_database_url: str, tmp_path: Path
) -> None:
    _populate(migrated_database_url)
    port = free_port()
    with smtp_server(port) as box:
        passes = run_worker_passes(
            [
                {
                    "MLA_DATABASE_URL": migrated_database_url,
                    "MLA_INSTANCE_DIR": str(tmp_path / f"instance{i}"),
                    "MLA_SECRET_KEY": KEY,
                    "MLA_SMTP_URL": f"smtp://127.0.0.1:{port}?timeout=10",
                }
                for i in range(2)
            ],
            NOW,
        )
        received = Counter(m["Message-ID"] for m in box.messages)

    assert sum(p.sent for p in passes) == MESSAGES
    if backend == "postgresql":  # SKIP LOCKED shares the work; on SQLite it depends on timing
        assert all(p.sent for p in passes), "both dispatchers took part"
    assert len(received) == MESSAGES
    assert set(received.values()) == {1}, "a message was sent twice"
    engine = make_engine(migrated_database_url)
    with Session(engine) as session:
        statuses = dict(
            session.execute(
                select(Notification.status, func.count()).group_by(Notification.status)
            ).all()
        )
    engine.dispose()
    assert statuses == {Status.SENT: MESSAGES}
