"""Each party authority has its own assignee for a request, and no authority sees another's
staff: proven through the pages each side's users open."""

from __future__ import annotations

import re

from tests.web.conftest import csrf


def _assign(client, reference: str, user_id: int | str, token: str) -> None:
    response = client.post(
        f"/requests/{reference}/assign", data={"csrf_token": token, "assignee": user_id}
    )
    assert response.status_code == 303, response.get_data(as_text=True)


def _logout(client) -> None:
    client.post("/logout", data={"csrf_token": csrf(client, "/")})


def _selected(page: str) -> list[str]:
    start = page.index('<select id="assignee"')
    menu = page[start : page.index("</select>", start)]
    return re.findall(r'<option value="(\d*)" selected>', menu)


def test_an_assignee_stays_with_its_own_authority(client, world, received, login, make_user):
    reference = received.reference
    # A clerk who has not acted on the request (the history names who acted, on any side).
    ours = make_user(world.arg, "clerk")
    arg_boss = login(world.arg_supervisor)
    _assign(client, reference, ours.id, arg_boss)
    page = client.get(f"/requests/{reference}").get_data(as_text=True)
    assert f"Assigned to {ours.username}" in page and _selected(page) == [str(ours.id)]
    _logout(client)

    # The requested side sees nobody assigned, nowhere: page, menu, dashboard, workload.
    login(world.mex_supervisor)
    page = client.get(f"/requests/{reference}").get_data(as_text=True)
    assert ours.username not in page
    assert _selected(page) == []
    for path in ("/", "/workload", "/requests", "/requests?mine=1"):
        assert ours.username not in client.get(path).get_data(as_text=True), path
    assert "nobody (unassigned)" in client.get("/workload").get_data(as_text=True)

    # It assigns its own clerk, independently of the requesting side's.
    _assign(client, reference, world.mex_clerk.id, csrf(client, "/"))
    page = client.get(f"/requests/{reference}").get_data(as_text=True)
    assert _selected(page) == [str(world.mex_clerk.id)] and ours.username not in page
    workload = client.get("/workload").get_data(as_text=True)
    assert "mex_clerk" in workload and ours.username not in workload
    _logout(client)

    # Its clerk finds it as theirs; the requesting side still has its own.
    login(world.mex_clerk)
    mine = client.get("/requests?mine=1").get_data(as_text=True)
    assert reference in mine
    dashboard = client.get("/").get_data(as_text=True)
    assert 'class="mine' in dashboard and ours.username not in dashboard
    _logout(client)
    login(world.arg_supervisor)
    page = client.get(f"/requests/{reference}").get_data(as_text=True)
    assert _selected(page) == [str(ours.id)]
    assert "Assigned to mex_clerk" not in page
    assert reference not in client.get("/requests?mine=1").get_data(as_text=True)
    _logout(client)
    login(ours)
    assert reference in client.get("/requests?mine=1").get_data(as_text=True)


def test_a_search_finds_names_without_their_accents_and_references_by_their_start(
    client, world, new_mla, login
):
    named = new_mla(
        fields={"persons": [{"name": "José Ñúñez García"}], "subject": "Blanqueo de capitales"}
    )
    other = new_mla(their_reference="EXP-2026/77")
    login(world.arg_clerk)

    def found(q: str) -> bool:
        page = client.get("/requests", query_string={"q": q}).get_data(as_text=True)
        return named.reference in page

    for q in ("jose nunez", "NÚÑEZ", "Garc", "blanqueo capitales", "capit"):
        assert found(q), q
    for q in ("nunez pereira", "Ga", "José_Ñúñez"):
        assert not found(q), q
    page = client.get("/requests", query_string={"q": named.reference[:-2]}).get_data(as_text=True)
    assert named.reference in page and other.reference in page
    page = client.get("/requests", query_string={"q": "EXP-2026/77"}).get_data(as_text=True)
    assert other.reference in page and named.reference not in page
