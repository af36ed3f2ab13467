"""The notifications bell: the count in the header, the list, marking read, and its scope."""

import re

from sqlalchemy import select

from mla.notify.models import Channel, Notification


def _bell(html: str) -> int:
    match = re.search(r'class="bell-count">(\d+)<', html)
    assert match, "no bell in the header"
    return int(match.group(1))


def _unread(session, user) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification).where(
                Notification.user_id == user.id,
                Notification.channel == Channel.IN_APP,
                Notification.read_at.is_(None),
            )
        )
    )


def test_a_request_arriving_rings_the_bell_of_the_requested_clerks(
    client, world, received, login, session
):
    token = login(world.mex_clerk)
    page = client.get("/").get_data(as_text=True)
    assert _bell(page) == 1
    listing = client.get("/notifications").get_data(as_text=True)
    assert f"{received.reference}" in listing and 'href="/notifications/' in listing
    [note] = _unread(session, world.mex_clerk)
    response = client.post("/notifications/read", data={"csrf_token": token, "ids": [note.id]})
    assert response.status_code == 303
    assert _unread(session, world.mex_clerk) == []
    assert _bell(client.get("/").get_data(as_text=True)) == 0
    assert "No unread notification" in client.get("/notifications").get_data(as_text=True)


def test_nobody_reads_or_marks_anyone_elses_notifications(client, world, received, login, session):
    [note] = _unread(session, world.mex_clerk)
    token = login(world.col_clerk)
    assert _bell(client.get("/").get_data(as_text=True)) == 0
    assert received.reference not in client.get("/notifications").get_data(as_text=True)
    client.post("/notifications/read", data={"csrf_token": token, "ids": [note.id]})
    assert _unread(session, world.mex_clerk) == [note]


def test_marking_read_needs_the_csrf_token(client, world, received, login, session):
    [note] = _unread(session, world.mex_clerk)
    login(world.mex_clerk)
    response = client.post("/notifications/read", data={"ids": [note.id]})
    assert response.status_code == 400
    assert _unread(session, world.mex_clerk) == [note]
