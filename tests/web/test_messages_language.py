"""What the services say reaches the clerk in the clerk's language: field errors, blocked
reasons, conflicts, admin refusals and filter errors; the history in labels and names; times
with four-digit years and the zone of whoever keeps them."""

import re
from datetime import UTC, datetime

import pytest

from mla.deadlines.models import Deadline
from tests.web.conftest import csrf

# A phrase of each message in Spanish and French, as the catalogue translates it.
SAID = {
    "es": {
        "required": "es obligatorio",
        "blocked": "requiere el rol supervisor",
        "conflict": "vuelva a cargarla e inténtelo de nuevo",
        "refused": "No se hizo",
        "admin": "no puede cambiar su propio rol",
        "filter": "autoridad desconocida &#39;NOPE&#39;",
    },
    "fr": {
        "required": "est obligatoire",
        "blocked": "exige le rôle superviseur",
        "conflict": "rechargez-la et réessayez",
        "refused": "Non effectué",
        "admin": "vous ne pouvez pas modifier votre propre rôle",
        "filter": "autorité inconnue &#39;NOPE&#39;",
    },
}


def _speak(client, lang: str) -> str:
    client.post("/language", data={"language": lang, "csrf_token": csrf(client, "/")})
    return csrf(client, "/")


def _version(client, reference: str) -> str:
    page = client.get(f"/requests/{reference}").get_data(as_text=True)
    return re.search(r'name="version_id" value="(\d+)"', page).group(1)


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_field_error_blocked_reason_and_conflict_in_the_clerks_language(
    client, world, received, login, lang
):
    said = SAID[lang]
    login(world.mex_clerk)
    token = _speak(client, lang)
    stale = received.version_id
    client.post(
        f"/requests/{received.reference}/events/acknowledge",
        data={"csrf_token": token, "version_id": stale},
    )
    # A guard's reason for an event the clerk may not take (a supervisor's step).
    page = client.get(f"/requests/{received.reference}").get_data(as_text=True)
    assert said["blocked"] in page
    # Each reason names its step by the step's label, not by its code.
    reasons = re.findall(r'<span id="why-(\w+)" class="muted">([^<]*)</span>', page)
    assert reasons
    for event, reason in reasons:
        assert event.replace("_", " ") not in reason, reason
    # A field error at the input.
    response = client.post(
        f"/requests/{received.reference}/events/request_information",
        data={"csrf_token": token, "version_id": _version(client, received.reference)},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert said["required"] in page and "is required" not in page
    # Someone else's change won: the conflict, flashed.
    response = client.post(
        f"/requests/{received.reference}/events/acknowledge",
        data={"csrf_token": token, "version_id": stale},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert said["refused"] in page and said["conflict"] in page
    assert "reload it" not in page


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_admin_and_filter_errors_in_the_users_language(client, world, login, make_user, lang):
    said = SAID[lang]
    admin = make_user(world.mex, "admin")
    login(admin)
    token = _speak(client, lang)
    response = client.post(
        f"/admin/users/{admin.id}/role",
        data={"csrf_token": token, "role": "clerk"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert said["admin"] in page and "cannot change your own role" not in page
    response = client.get("/requests?counterpart=NOPE")
    assert response.status_code == 422
    assert said["filter"] in response.get_data(as_text=True)


def test_upload_script_gets_the_refusal_in_the_users_language(client, world, received, login):
    login(world.mex_clerk)
    token = _speak(client, "es")
    response = client.post(
        f"/requests/{received.reference}/events/acknowledge",
        data={"csrf_token": token, "version_id": "0"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert "vuelva a cargarla" in error


def test_history_shows_input_labels_and_values_in_the_readers_words(client, world, received, login):
    login(world.mex_clerk)
    token = _speak(client, "es")
    client.post(
        f"/requests/{received.reference}/events/acknowledge",
        data={"csrf_token": token, "version_id": received.version_id},
    )
    client.post(
        f"/requests/{received.reference}/events/request_information",
        data={
            "csrf_token": token,
            "version_id": _version(client, received.reference),
            "inputs.questions": "¿Quién es el titular de la cuenta?",
        },
    )
    page = client.get(f"/requests/{received.reference}").get_data(as_text=True)
    history = page[page.index('id="timeline-h"') :]
    assert "questions:" not in history
    assert "Información necesaria: ¿Quién es el titular de la cuenta?" in history


def test_deadlines_show_four_digit_years_and_the_keepers_zone(
    client, world, received, login, session
):
    login(world.arg_clerk)
    _speak(client, "en")
    deadline = session.query(Deadline).filter_by(request_id=received.id).first()
    deadline.due_at = datetime(2026, 12, 8, 5, 59, tzinfo=UTC)  # 23:59 on the 7th in Mexico
    session.flush()
    page = client.get(f"/requests/{received.reference}").get_data(as_text=True)
    keeper = received.requested_authority.timezone
    assert deadline.authority_id == received.requested_authority_id
    assert (
        f"12/7/2026, 11:59\u202fPM ({keeper})" in page or f"12/7/2026, 11:59 PM ({keeper})" in page
    )
    assert "12/7/26" not in page


def test_history_names_the_executing_authority(client, world, received, login, service):
    mex = world.actor(world.mex_clerk)
    for event in ("acknowledge", "pass_formal_review", "accept"):
        service.fire(received, event, mex)
    service.fire(received, "assign", mex, inputs={"executing_authority": "MEX-FEMDO"})
    login(world.mex_clerk)
    _speak(client, "es")
    page = client.get(f"/requests/{received.reference}").get_data(as_text=True)
    history = page[page.index('id="timeline-h"') :]
    history = history[: history.index("</ol>")]
    court = received.executing_authority
    assert f"Autoridad de ejecución: {court.name}" in history
    assert "MEX-FEMDO" not in history and "executing_authority:" not in history
