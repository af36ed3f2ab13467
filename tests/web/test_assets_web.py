"""The request page of an assets request: its register with totals per currency, and its
links, in each language; a third authority's page never names the other end."""

from __future__ import annotations

from tests.api import conftest as api_fixtures
from tests.scenarios.test_assets import ACCOUNT, HOUSE, frozen, new_mla, ok
from tests.web.conftest import csrf

api = api_fixtures.api  # the API callers of tests/api


def test_register_and_links_on_the_request_page(client, world, api, login):
    ref = frozen(api)
    ok(api.arg.post(f"/requests/{ref}/assets", json={**ACCOUNT, "estimated_value": "50000"}), 201)
    other = new_mla(api.arg, "COL-FGN", {})
    ok(api.arg.post(f"/requests/{ref}/links", json={"other": other, "kind": "related_to"}), 201)

    login(world.arg_clerk)
    page = client.get(f"/requests/{ref}").get_data(as_text=True)
    assert "Asset register" in page
    assert "Total in USD" in page and "300000.00 USD" in page  # 250,000 + 50,000
    assert "3500000.00 MXN" in page and HOUSE["identifiers"] in page
    assert "Related to" in page and other in page
    # The list filters by kind.
    listed = client.get("/requests?kind=assets").get_data(as_text=True)
    assert ref in listed and other not in listed
    for lang, words in {
        "es": ("Registro de activos", "Embargado", "Relacionada con"),
        "fr": ("Registre des avoirs", "Gelé", "Liée à"),
        "pt": ("Registo de ativos", "Bloqueado", "Relacionado com"),
    }.items():
        client.post("/language", data={"language": lang, "csrf_token": csrf(client, "/")})
        page = client.get(f"/requests/{ref}").get_data(as_text=True)
        for word in words:
            assert word in page, (lang, word)

    # Mexico holds the assets request but is no party to the request sent to Colombia.
    client.post("/logout", data={"csrf_token": csrf(client, "/")})
    login(world.mex_clerk)
    page = client.get(f"/requests/{ref}").get_data(as_text=True)
    assert ref in page and "Registo de ativos" in page  # the language chosen stays
    assert other not in page
