"""Statistics and completion estimates against figures computed by hand on a seeded history.

Seven MLA requests from ARG-DAJIN to MEX-FGR, all transmitted on Monday 2 March 2026 at
09:00 in Mexico City (T0). Five are acknowledged after 1, 2, 3, 4 and 10 days and closed 10,
20, 30, 40 and 50 days after that (every remaining step at that moment); one is acknowledged
after 5 days and stays in formal review; one is never acknowledged. Mexico's only public
holidays in the span are 16 March (Benito Juárez) and 1 May (Labour Day).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from mla.deadlines.calendar import Calendar
from mla.statistics import service as stats
from mla.statistics.estimates import estimate
from tests.factories import MLA_FIELDS
from tests.web.conftest import sign_in

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
ACK = [1, 2, 3, 4, 10]
AFTER = [10, 20, 30, 40, 50]
CATEGORIES = [["money_laundering", "drug_trafficking"], ["drug_trafficking"], [], [], []]


@pytest.fixture
def history(service, world, clock):
    arg, arg_sup = world.actor(world.arg_clerk), world.actor(world.arg_supervisor)
    mex, court = world.actor(world.mex_clerk), world.actor(world.court_clerk)
    clock.now = T0
    made = []
    for i in range(7):
        request = service.create(
            arg,
            kind="mla",
            requested_authority="MEX-FGR",
            legal_basis="untoc-18",
            fields=dict(MLA_FIELDS),
            offence_categories=CATEGORIES[i] if i < 5 else [],
        )
        service.fire(request, "submit_for_review", arg)
        service.fire(request, "sign", arg_sup)
        service.fire(request, "transmit", arg)
        made.append(request)
    steps = []
    for i, (ack, after) in enumerate(zip(ACK, AFTER, strict=True)):
        steps.append((ack, i, "ack"))
        steps.append((ack + after, i, "close"))
    steps.append((5, 5, "ack"))
    for day, i, what in sorted(steps):
        clock.now = T0 + timedelta(days=day)
        request = made[i]
        if what == "ack":
            service.fire(request, "acknowledge", mex)
            continue
        service.fire(request, "pass_formal_review", mex)
        service.fire(request, "accept", mex)
        service.fire(request, "assign", mex, {"executing_authority": "MEX-FEMDO"})
        service.fire(request, "start_execution", court)
        service.fire(request, "complete_execution", court)
        service.fire(request, "transmit_results", mex, {"use_limitation": "Case 9/2026"})
        service.fire(request, "close", arg)
    clock.now = T0 + timedelta(days=61)
    return made


def _rows(table, **match):
    return [r for r in table.as_dicts() if all(r[k] == v for k, v in match.items())]


def test_counts_turnaround_compliance_ageing(history, session, world, clock):
    report = stats.statistics(
        session, world.mex, stats.parse_period("2026"), "counterpart", clock.now
    )
    counts = report.tables["counts"]
    assert counts.rows == [("incoming", "ARG-DAJIN", 7, 5, 2)]

    turnaround = report.tables["turnaround"]
    ack = _rows(turnaround, stage="acknowledgement")[0]
    # Acknowledged after 1, 2, 3, 4, 5 and 10 days: rank ceil(0.5*6)=3 and ceil(0.9*6)=6.
    assert (ack["requests"], ack["median_days"], ack["p90_days"]) == (6, 3.0, 10.0)
    # In business days (T0 a Monday): 1, 2, 3, 4, 4 (day 5 a Saturday), 8.
    assert (ack["median_business_days"], ack["p90_business_days"]) == (3, 8)
    whole = _rows(turnaround, stage="whole")[0]
    # Closed 11, 22, 33, 44, 60 days after transmission: ranks 3 and 5.
    assert (whole["requests"], whole["median_days"], whole["p90_days"]) == (5, 33.0, 60.0)
    # To Saturday 4 April: 4 + 4 weeks of 5 - 16 March = 23 business days; and as the
    # authority's calendar counts them.
    cal = Calendar("MX", timezone="America/Mexico_City")
    business = sorted(
        cal.business_days_between(T0, T0 + timedelta(days=d)) for d in (11, 22, 33, 44, 60)
    )
    assert whole["median_business_days"] == 23 == business[2]
    assert whole["p90_business_days"] == business[4]

    compliance = _rows(report.tables["compliance"], deadline="acknowledgement")[0]
    assert (compliance["met"], compliance["missed"]) == (5, 1)
    # Due at the end of day 7 in Mexico City (06:00 UTC on day 8); acknowledged on day 10 at
    # 15:00 UTC: 2 days and 9 hours late.
    assert compliance["late_max_days"] == compliance["late_median_days"] == 2.4

    ageing = {r[0]: r for r in report.tables["ageing"].rows}
    # Both open requests are with Mexico, 61 days after transmission.
    assert ageing == {"MEX-FGR": ("MEX-FGR", 0, 2, 0, 0, 0, 2)}

    trend = {m: i for m, i, _o in report.tables["trend"].rows}
    # Open at each month's end, from the closures on days 11, 22, 33, 44 and 60 (13 and 24
    # March, 4 and 15 April, 1 May at 09:00 local: after April's end); May: up to now.
    assert trend == {"2026-01": 0, "2026-02": 0, "2026-03": 5, "2026-04": 3, "2026-05": 2}


def test_executing_authority_counts_what_it_executed(history, session, world, clock):
    # The court executed the five closed requests (assigned on their closing day): incoming
    # for it from their transmission, once each though Mexico is also their requested side.
    report = stats.statistics(
        session, world.mex_court, stats.parse_period("2026"), "counterpart", clock.now
    )
    assert report.tables["counts"].rows == [("incoming", "ARG-DAJIN", 5, 5, 0)]
    whole = _rows(report.tables["turnaround"], stage="whole")[0]
    assert (whole["requests"], whole["median_days"], whole["p90_days"]) == (5, 33.0, 60.0)
    assert report.tables["ageing"].rows == []
    mexico = stats.statistics(session, world.mex, stats.parse_period("2026"), "kind", clock.now)
    assert mexico.tables["counts"].rows == [("incoming", "mla", 7, 5, 2)]


def test_outgoing_side_and_offence_categories(history, session, world, clock):
    report = stats.statistics(
        session, world.arg, stats.parse_period("2026-03"), "offence_category", clock.now
    )
    assert report.tables["counts"].rows == [
        ("outgoing", "drug_trafficking", 2, 2, 0),
        ("outgoing", "money_laundering", 1, 1, 0),
    ]
    # Colombia is party to none of it.
    empty = stats.statistics(session, world.col, stats.parse_period("2026"), "kind", clock.now)
    assert empty.tables["counts"].rows == [] and empty.tables["turnaround"].rows == []


def test_turnaround_by_offence_category(history, session, world, clock):
    # A run counts once under each category of its request (counted per distinct list of
    # categories, then unnested): request 0 (both categories) acknowledged in 1 day and
    # closed in 11, request 1 (drug trafficking) in 2 and 22; none for the uncategorised.
    report = stats.statistics(
        session, world.arg, stats.parse_period("2026"), "offence_category", clock.now
    )
    rows = {(r[1], r[2]): r[3:] for r in report.tables["turnaround"].rows}
    assert {r[0] for r in report.tables["turnaround"].rows} == {"outgoing"}
    assert rows[("drug_trafficking", "acknowledgement")] == (2, 1.0, 2.0, 1, 2)
    assert rows[("drug_trafficking", "whole")] == (2, 11.0, 22.0, 9, 14)
    assert rows[("money_laundering", "acknowledgement")] == (1, 1.0, 1.0, 1, 1)
    assert rows[("money_laundering", "whole")] == (1, 11.0, 11.0, 9, 9)
    assert {group for group, _stage in rows} == {"drug_trafficking", "money_laundering"}


def test_completion_estimates(history, session, world, clock):
    in_review, unacknowledged = history[5], history[6]
    found = estimate(session, in_review)
    # From formal review to closure the five took 10..50 days; five is below the ten needed
    # for the counterpart alone, enough for the kind.
    assert (found.basis, found.sample) == ("kind", 5)
    entered = T0 + timedelta(days=5)
    assert found.since == entered
    assert found.p50 == entered + timedelta(days=30)
    assert found.p90 == entered + timedelta(days=50)
    found = estimate(session, unacknowledged)
    assert found.since == T0 and found.p50 == T0 + timedelta(days=33)
    assert found.p90 == T0 + timedelta(days=60)
    assert estimate(session, history[0]) is None  # closed


def test_not_enough_history(received, session):
    found = estimate(session, received)
    assert (found.basis, found.sample, found.p50, found.p90) == ("none", 0, None, None)


def test_api_and_csv_agree_with_the_service(history, session, world, client):
    from mla.authorities import tokens

    _row, token = tokens.create(session, world.mex, role="clerk")
    headers = {"Authorization": f"Bearer {token}"}
    got = client.get("/api/v1/statistics?period=2026&dimension=counterpart", headers=headers)
    assert got.status_code == 200, got.json
    direct = stats.statistics(
        session, world.mex, stats.parse_period("2026"), "counterpart", datetime.now(UTC)
    )
    for name, table in direct.tables.items():
        assert got.json["tables"][name]["rows"] == [list(r) for r in table.rows], name
    as_csv = client.get("/api/v1/statistics?period=2026", headers={**headers, "Accept": "text/csv"})
    assert as_csv.mimetype == "text/csv"
    long = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
    counts = [r for r in long if r["table"] == "counts"]
    assert {r["column"]: r["value"] for r in counts} == {
        "direction": "incoming",
        "group": "ARG-DAJIN",
        "opened": "7",
        "closed": "5",
        "open_at_end": "2",
    }
    bad = client.get("/api/v1/statistics?period=2026-13&dimension=colour", headers=headers)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json["errors"]} >= {"period"}
    status = client.get(f"/api/v1/requests/{history[5].reference}", headers=headers).json
    assert status["estimate"]["basis"] == "kind" and status["estimate"]["sample"] == 5
    assert status["offence_categories"] == []
    closed = client.get(f"/api/v1/requests/{history[0].reference}", headers=headers).json
    assert closed["estimate"] is None
    assert closed["offence_categories"] == ["drug_trafficking", "money_laundering"]


def test_statistics_page_for_supervisors(history, client, world, session):
    assert sign_in(client, world.mex_supervisor.username).status_code == 302
    page = client.get("/statistics?period=2026&dimension=counterpart")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # The charts are drawn on the server: the page's only script is the layout's own.
    scripts = re.findall(r"<script[^>]*>", html)
    assert html.count("<svg") == 4 and all("js/tables.js" in tag for tag in scripts), scripts
    assert "<td>ARG-DAJIN</td><td>7</td><td>5</td><td>2</td>" in html
    got = client.get("/statistics/counts.csv?period=2026&dimension=counterpart")
    assert got.get_data(as_text=True).splitlines() == [
        "direction,group,opened,closed,open_at_end",
        "incoming,ARG-DAJIN,7,5,2",
    ]
    assert client.get("/statistics?period=nope").status_code == 422
    other = client.application.test_client()
    assert sign_in(other, world.mex_clerk.username).status_code == 302
    assert other.get("/statistics").status_code in (302, 303, 403)


def test_offence_categories_through_the_forms(client, world, session, new_mla):
    from tests.web.conftest import csrf

    assert sign_in(client, world.arg_clerk.username).status_code == 302
    form_page = client.get("/requests/new?kind=mla").get_data(as_text=True)
    assert 'name="offence_categories" value="trafficking_in_persons"' in form_page
    form = {
        "csrf_token": csrf(client, "/"),
        "requested_authority": "MEX-FGR",
        "legal_basis": "untoc-18",
        "urgency": "normal",
        **{k: v for k, v in MLA_FIELDS.items() if k != "assistance_types"},
        "assistance_types": MLA_FIELDS["assistance_types"],
        "offence_categories": ["money_laundering", "trafficking_in_persons"],
        "action": "draft",
    }
    made = client.post("/requests/new?kind=mla", data=form)
    assert made.status_code == 303, made.get_data(as_text=True)
    reference = made.headers["Location"].rsplit("/", 1)[-1]
    page = client.get(f"/requests/{reference}").get_data(as_text=True)
    assert "Trafficking in persons, Money laundering" in page
    # The editor shows them ticked; unticking one and ticking another is saved as such.
    edit = client.get(f"/requests/{reference}/edit").get_data(as_text=True)
    assert 'value="money_laundering" checked' in edit
    from mla.requests.models import Request

    draft = session.query(Request).filter_by(reference=reference).one()
    form.update(version_id=str(draft.version_id), offence_categories=["cybercrime"])
    for key in ("requested_authority", "legal_basis", "action"):
        form.pop(key)
    assert client.post(f"/requests/{reference}/edit", data=form).status_code == 303
    session.refresh(draft)
    assert draft.offence_categories == ["cybercrime"]
    form.update(version_id=str(draft.version_id), offence_categories=["gossip"])
    refused = client.post(f"/requests/{reference}/edit", data=form)
    assert refused.status_code == 422
    assert 'id="offence_categories-error"' in refused.get_data(as_text=True)


def test_request_page_shows_the_estimate(history, client, world):
    assert sign_in(client, world.mex_clerk.username).status_code == 302
    html = client.get(f"/requests/{history[5].reference}").get_data(as_text=True)
    # Entered formal review on 7 March; P50 30 days later, P90 50 days later (Mexico City).
    assert "by Apr 6, 2026 (even odds), by Apr 26, 2026 (nine in ten)" in html
    assert "From 5 closed requests of this kind." in html
    assert 'id="estimate"' not in client.get(f"/requests/{history[0].reference}").get_data(
        as_text=True
    )


def test_request_page_says_not_enough_history(received, client, world):
    assert sign_in(client, world.mex_clerk.username).status_code == 302
    html = client.get(f"/requests/{received.reference}").get_data(as_text=True)
    assert "Not enough history to estimate (0 comparable closed requests)." in html


def test_outcomes_with_each_refusal_ground(history, service, world, session, received):
    mex, boss = world.actor(world.mex_clerk), world.actor(world.mex_supervisor)
    service.fire(received, "acknowledge", mex)
    service.fire(received, "pass_formal_review", mex)
    service.fire(
        received, "open_consultation", mex,
        {"subject": "possible_refusal", "reasons": "Afecta intereses esenciales del Estado."},
    )  # fmt: skip
    grounds = ["essential_interests", "domestic_law_bar"]
    reasons = "La diligencia afecta la seguridad nacional."
    service.fire(received, "refuse", boss, {"grounds": grounds, "reasons": reasons})
    session.commit()
    report = stats.statistics(
        session, world.mex, stats.parse_period("2026"), "outcome", datetime.now(UTC)
    )
    rows = report.tables["outcomes"].as_dicts()
    # The five closed ones of the history, and the refusal once under each of its grounds.
    assert [(r["outcome"], r["ground"], r["requests"]) for r in rows] == [
        ("closed", "", 5),
        ("refused", "", 1),
        ("refused", "domestic_law_bar", 1),
        ("refused", "essential_interests", 1),
    ]
    assert {r["direction"] for r in rows} == {"incoming"}
