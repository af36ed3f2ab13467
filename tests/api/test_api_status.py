"""Reading where a request stands: status, ETag, progress queries, lists, catalogue."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from mla.api import progress
from mla.api.cache import RecentReads
from mla.audit.models import Event, EventKind
from mla.requests.progress import ProgressQuery
from tests.api.conftest import NEW_REQUEST


def test_create_returns_the_status_with_location_and_etag(api):
    response = api.arg.post("/requests", json={**NEW_REQUEST, "their_reference": "CAUSA-9/2026"})
    assert response.status_code == 201
    body = response.json
    assert body["reference"].startswith("MLA-ARG-")
    assert response.headers["Location"] == f"/api/v1/requests/{body['reference']}"
    assert response.headers["ETag"].startswith('"v')
    assert body["state"] == "draft" and body["holder"] == "ARG-DAJIN"
    assert body["requesting_authority"] == "ARG-DAJIN"
    assert body["requested_authority"] == "MEX-FGR"
    assert body["their_reference"] == "CAUSA-9/2026"
    assert body["history"] == []
    events = {e["event"]: e for e in body["available_events"]}
    assert events["submit_for_review"]["allowed"] is True
    assert all(e["event"] != "acknowledge" for e in body["available_events"])
    reviewed = api.arg.fire(body["reference"], "submit_for_review").json
    sign = next(e for e in reviewed["available_events"] if e["event"] == "sign")
    assert sign["allowed"] is False and "supervisor" in sign["reason"]


def test_status_shows_history_deadlines_and_labels(api, submitted):
    api.arg.fire(submitted, "submit_for_review")
    api.arg_supervisor.fire(submitted, "sign")
    api.arg.fire(submitted, "transmit")
    body = api.mex.get(f"/requests/{submitted}", headers={"Accept-Language": "es"}).json
    assert body["state"] == "received" and body["holder"] == "MEX-FGR"
    assert body["state_label"] != "received"  # the Spanish label
    assert [(h["event"], h["from"], h["to"], h["by"]) for h in body["history"]] == [
        ("submit_for_review", "draft", "legal_review", "ARG-DAJIN"),
        ("sign", "legal_review", "signed", "ARG-DAJIN"),
        ("transmit", "signed", "received", "ARG-DAJIN"),
    ]
    assert body["deadlines"] and all(d["status"] == "running" for d in body["deadlines"])
    assert {e["event"] for e in body["available_events"]} >= {"acknowledge"}


def test_refusal_grounds_of_the_basis_are_listed_as_choices(api, drafted, engines):
    steps = [
        (api.arg, "submit_for_review", {}),
        (api.arg_supervisor, "sign", {}),
        (api.arg, "transmit", {}),
        (api.mex, "acknowledge", {}),
        (api.mex, "pass_formal_review", {}),
        (api.mex, "open_consultation", {"subject": "possible_refusal", "reasons": "Art. 18.21"}),
    ]
    for caller, event, inputs in steps:
        response = caller.fire(drafted, event, **inputs)
        assert response.status_code == 200, response.json
    body = api.mex.get(f"/requests/{drafted}").json
    refuse = next(e for e in body["available_events"] if e["event"] == "refuse")
    assert refuse["allowed"] is False  # a clerk's token: refusal needs a supervisor
    grounds = next(i for i in refuse["inputs"] if i["name"] == "grounds")
    expected = engines.latest("mla").workflow.refusal_grounds("untoc-18")
    assert [c["code"] for c in grounds["choices"]] == [c.code for c in expected]
    assert "choices" not in next(i for i in refuse["inputs"] if i["name"] == "reasons")


def test_available_events_name_the_fields_still_missing(api):
    fields = {k: v for k, v in NEW_REQUEST["fields"].items() if k not in ("facts", "purpose")}
    body = api.arg.post("/requests", json={**NEW_REQUEST, "fields": fields}).json
    events = {e["event"]: e for e in body["available_events"]}
    submit = events["submit_for_review"]
    assert submit["allowed"] is False and "facts is required" in submit["reason"]
    assert submit["missing"] == ["facts", "purpose"]
    assert events["withdraw"]["missing"] == []
    complete = api.arg.post("/requests", json=NEW_REQUEST).json
    submit = next(e for e in complete["available_events"] if e["event"] == "submit_for_review")
    assert submit["allowed"] is True and submit["missing"] == []


def test_etag_gives_304_and_ignores_progress_queries(api, submitted, session):
    first = api.arg.get(f"/requests/{submitted}")
    tag = first.headers["ETag"]
    again = api.arg.get(f"/requests/{submitted}", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.headers["ETag"] == tag and again.data == b""
    # A read by the other party is recorded in the history, but changes neither the ETag...
    api.mex.get(f"/requests/{submitted}")
    assert api.arg.get(f"/requests/{submitted}").headers["ETag"] == tag
    # ...while a state change does.
    assert api.mex.fire(submitted, "acknowledge").status_code == 200
    changed = api.arg.get(f"/requests/{submitted}", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag


def test_reads_are_recorded_once_per_authority_per_hour(app, api, submitted, session, world):
    for _ in range(3):
        assert api.arg.get(f"/requests/{submitted}").status_code == 200
    assert api.mex.get(f"/requests/{submitted}").status_code == 200  # another authority
    events = session.scalars(select(Event).where(Event.kind == EventKind.PROGRESS_QUERY)).all()
    assert len(events) == 2
    assert {e.actor_authority_id for e in events} == {world.arg.id, world.mex.id}
    events = [e for e in events if e.actor_authority_id == world.arg.id]
    assert events[0].actor_authority_id == world.arg.id and events[0].data["via"] == "api"
    # An hour later, the next read is recorded again; history stays free of reads.
    row = session.get(ProgressQuery, (world.arg.id, events[0].request_id))
    row.recorded_at -= progress.INTERVAL + timedelta(seconds=1)
    session.flush()
    app.extensions["mla.api.recent_reads"] = RecentReads()  # as if in another process
    body = api.arg.get(f"/requests/{submitted}").json
    count = session.scalars(select(Event).where(Event.kind == EventKind.PROGRESS_QUERY)).all()
    assert len(count) == 3
    assert [h["event"] for h in body["history"]] == ["submit_for_review", "sign", "transmit"]


def test_list_is_keyset_paginated_and_filtered(api):
    references = [api.arg.post("/requests", json=NEW_REQUEST).json["reference"] for _ in range(5)]
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.arg.get("/requests", query_string=query).json
        seen += [item["reference"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(references) and len(seen) == len(set(seen))
    assert api.arg.get("/requests", query_string={"state": "received"}).json["items"] == []
    assert api.col.get("/requests").json == {"items": [], "next_cursor": None}


def test_list_filters_by_kind_and_time_of_last_change(api):
    first, *_ = [api.arg.post("/requests", json=NEW_REQUEST).json for _ in range(3)]
    changed = api.arg.fire(first["reference"], "submit_for_review").json
    since = {"updated_since": changed["updated_at"]}
    recent = api.arg.get("/requests", query_string=since).json["items"]
    assert [item["reference"] for item in recent] == [first["reference"]]
    everything = {"updated_since": first["created_at"], "kind": "mla"}
    assert len(api.arg.get("/requests", query_string=everything).json["items"]) == 3
    assert api.arg.get("/requests", query_string={"kind": "extradition"}).json["items"] == []


def test_workflows_and_directory(api):
    workflows = api.col.get("/workflows").json["items"]
    assert {w["name"] for w in workflows} == {"mla", "extradition", "assets"}
    mla = api.col.get("/workflows/mla").json
    assert mla["version"] >= 1 and mla["initial"] == "draft"
    field = next(f for f in mla["fields"] if f["name"] == "proceeding_type")
    assert {c["code"] for c in field["choices"]} >= {"investigation"}
    assert "choices" not in next(f for f in mla["fields"] if f["name"] == "subject")
    submit = next(t for t in mla["transitions"] if t["event"] == "submit_for_review")
    facts = next(r for r in submit["requires"] if r["field"] == "facts")
    assert facts == {"field": "facts", "unless": {"assistance_types": ["service_of_documents"]}}
    assert next(t for t in mla["transitions"] if t["event"] == "withdraw")["requires"] == []
    assert api.col.get("/workflows/nope").status_code == 404
    directory = {a["code"]: a for a in api.col.get("/authorities").json["items"]}
    assert directory["MEX-FEMDO"]["parent"] == "MEX-FGR"
    assert directory["MEX-FEMDO"]["kind"] == "executing"
    assert directory["ARG-DAJIN"]["country"] == "AR"


def test_the_workflow_document_says_what_each_step_requires(api):
    """What ``required_in`` and the guards ask for, visible to a client before it fires."""
    ext = api.col.get("/workflows/extradition", query_string={"version": 1}).json
    fields = {f["name"]: f for f in ext["fields"]}
    assert fields["probable_location"]["required_in"] == ["provisional_arrest"]
    assert fields["treaty"]["bases"] == ["bilateral"] and "bases" not in fields["facts"]
    transitions = {t["event"]: t for t in ext["transitions"]}
    provisional = [r["field"] for r in transitions["request_provisional_arrest"]["requires"]]
    assert provisional[:3] == ["person_description", "probable_location", "facts"]
    transmit = {r["field"]: r for r in transitions["transmit_formal_request"]["requires"]}
    assert transmit["laws_text"] == {"field": "laws_text"}
    assert transmit["treaty"] == {"field": "treaty", "bases": ["bilateral"]}
    assert transitions["release_for_lapse"]["requires"] == [{"field": "arrest_date"}]
    [arrest_date] = transitions["record_arrest"]["inputs"]
    assert arrest_date["to_field"] == "arrest_date"
    assert "to_field" not in transitions["withdraw"]["inputs"][0]


def test_the_docs_page_loads_only_its_own_vendored_assets(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    assert "http" not in html  # nothing from a CDN
    assets = re.findall(r'(?:src|href|data-spec)="([^"]+)"', html)
    assert len(assets) == 4
    for asset in assets:
        assert asset.startswith("/api/v1/"), asset
        with client.get(asset) as response:
            assert response.status_code == 200, asset
    assert client.get("/api/v1/docs/assets/secret_key").status_code == 404
