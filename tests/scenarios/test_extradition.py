"""Extradition (workflow version 2) walked through the HTTP API to each of its final states,
with the tokens of the parties that would act: Argentina requests (ARG-DAJIN), Mexico is
requested (MEX-FGR, its clerk and its supervisor), a Mexican court rules (MEX-FEMDO)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from mla import create_app
from mla.authorities import service as authorities
from mla.authorities import tokens
from mla.authorities.models import AuthorityKind
from mla.cli import cli
from mla.db import make_engine
from mla.notify.models import Notification
from tests.api.conftest import Api, Callers
from tests.factories import mexico_today

MEXICO = ZoneInfo("America/Mexico_City")
REASONS = "The person holds Mexican nationality by birth, as the civil registry shows."

# What an urgent provisional arrest request holds (16.9): not yet the formal request's
# text of the laws or identification data.
PROVISIONAL = {
    "person_description": "Varón, 45 años, 1,80 m, cicatriz en la mano izquierda.",
    "probable_location": "Cancún, Quintana Roo",
    "facts": "Homicidio en Rosario, 12 de enero de 2026.",
    "laws_violated": "Art. 79 Código Penal",
    "warrant_or_judgment": "Orden de detención del Juzgado Federal de Rosario",
    "undertaking": True,
    "channel": "interpol",
}
FORMAL = {
    **PROVISIONAL,
    "laws_text": "Art. 79: 8 a 25 años de prisión; prescripción: 25 años.",
    "identification": "Fotografías y huellas dactilares adjuntas.",
}


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.json
    return response.json


def create(requesting: Api, fields: dict) -> str:
    body = {
        "kind": "extradition",
        "requested_authority": "MEX-FGR",
        "legal_basis": "iace",
        "fields": fields,
        "urgency": "urgent",
    }
    return ok(requesting.post("/requests", json=body), 201)["reference"]


def walk(reference: str, *steps: tuple[Api, str, dict]) -> dict:
    status: dict = {}
    for caller, event, inputs in steps:
        status = ok(caller.fire(reference, event, **inputs))
    return status


def available(caller: Api, reference: str) -> dict[str, dict]:
    return {e["event"]: e for e in ok(caller.get(f"/requests/{reference}"))["available_events"]}


def to_court(api: Callers) -> str:
    """A formal request sent without a provisional arrest, reviewed and before the court."""
    ref = create(api.arg, FORMAL)
    status = walk(
        ref,
        (api.arg, "transmit_formal_request", {}),
        (api.mex, "acknowledge", {}),
        (api.mex, "refer_to_court", {"executing_authority": "MEX-FEMDO"}),
    )
    assert (status["state"], status["holder"]) == ("judicial_phase", "MEX-FEMDO")
    return ref


def test_provisional_arrest_to_surrender(api):
    ref = create(api.arg, PROVISIONAL)
    walk(ref, (api.arg, "request_provisional_arrest", {}))

    tomorrow = (mexico_today() + timedelta(days=2)).isoformat()
    refused = api.mex.fire(ref, "record_arrest", arrest_date=tomorrow)
    assert refused.status_code == 422
    assert refused.json["errors"] == [
        {
            "field": "inputs.arrest_date",
            "message": refused.json["errors"][0]["message"],
            "code": "invalid",
        }
    ]
    assert "must not be in the future" in refused.json["errors"][0]["message"]
    status = walk(ref, (api.mex, "record_arrest", {"arrest_date": mexico_today().isoformat()}))
    assert (status["state"], status["holder"]) == ("person_arrested", "ARG-DAJIN")
    # The detention clock is Mexico's: 60 days to the end of the day in Mexico City.
    (clock,) = [d for d in status["deadlines"] if d["name"] == "formal_request"]
    end = datetime.combine(mexico_today() + timedelta(days=60), time.max, tzinfo=MEXICO)
    assert datetime.fromisoformat(clock["due_at"]) == end.astimezone(UTC)
    assert clock["authority"] == "MEX-FGR"
    assert "runs until" in available(api.mex, ref)["release_for_lapse"]["reason"]

    # The formal request is a submission of its own: it brings the contents the urgent
    # request lacked, and its documents by attachment.
    formal = available(api.arg, ref)["transmit_formal_request"]
    assert formal["allowed"] is True
    assert {"laws_text", "identification", "documents"} <= {i["name"] for i in formal["inputs"]}
    incomplete = api.arg.fire(ref, "transmit_formal_request", laws_text="Art. 79")
    assert incomplete.status_code == 409 and "identification" in incomplete.json["detail"]
    upload = api.arg.post(
        f"/requests/{ref}/attachments",
        data={"file": (io.BytesIO(b"%PDF-1.4\nwarrant"), "orden-certificada.pdf")},
        content_type="multipart/form-data",
    )
    document = ok(upload, 201)["id"]
    stranger = api.arg.fire(
        ref, "transmit_formal_request", identification="Huellas", documents=[document + 99]
    )
    assert stranger.status_code == 422 and "no attachment" in stranger.json["errors"][0]["message"]
    status = walk(
        ref,
        (
            api.arg,
            "transmit_formal_request",
            {
                "laws_text": FORMAL["laws_text"],
                "identification": FORMAL["identification"],
                "documents": [document],
            },
        ),
        (api.mex, "acknowledge", {}),
    )
    assert status["state"] == "document_review"

    # The case goes to a court named when referring it; the court then holds it.
    unnamed = api.mex.fire(ref, "refer_to_court")
    assert unnamed.status_code == 422
    assert unnamed.json["errors"][0]["field"] == "inputs.executing_authority"
    walk(ref, (api.mex, "refer_to_court", {"executing_authority": "MEX-FEMDO"}))
    court_view = ok(api.court.get(f"/requests/{ref}"))
    assert court_view["holder"] == "MEX-FEMDO"
    assert {"rule_extraditable", "rule_not_extraditable"} <= {
        e["event"] for e in court_view["available_events"]
    }
    today = mexico_today().isoformat()
    walk(ref, (api.court, "record_simplified_consent", {"consent_date": today}))
    clerk = api.mex.fire(ref, "grant", surrender_window_start=today)
    assert clerk.status_code == 403
    status = walk(
        ref,
        (api.mex_supervisor, "grant", {"surrender_window_start": today}),
        (api.mex, "schedule_surrender", {"surrender_date": today}),
        (api.mex, "record_surrender", {}),
    )
    assert (status["state"], status["outcome"]) == ("surrendered", "surrendered")
    assert [h["to"] for h in status["history"]][-3:] == [
        "granted",
        "surrender_scheduled",
        "surrendered",
    ]


def test_not_extraditable_binds_the_executive_to_refusal(api):
    ref = to_court(api)
    walk(ref, (api.court, "rule_not_extraditable", {"ruling": "Prescripción de la acción."}))
    events = available(api.mex_supervisor, ref)
    assert "grant" not in events and "grant_with_conditions" not in events
    today = mexico_today().isoformat()
    refused = api.mex_supervisor.fire(ref, "grant", surrender_window_start=today)
    assert refused.status_code == 409
    status = walk(
        ref,
        (
            api.mex_supervisor,
            "refuse",
            {"grounds": ["limitation"], "reasons": "The court ruled the offence time-barred."},
        ),
    )
    assert (status["state"], status["outcome"]) == ("refused", "refused")


def test_not_extraditable_national_is_prosecuted_at_home(api):
    ref = to_court(api)
    status = walk(
        ref,
        (api.court, "rule_not_extraditable", {"ruling": "La persona es nacional mexicana."}),
        (
            api.mex_supervisor,
            "refuse_and_refer",
            {"grounds": ["nationality"], "reasons": REASONS},
        ),
    )
    assert status["state"] == "referred_for_domestic_prosecution"
    assert {d["name"] for d in status["deadlines"]} == {"prosecution_report"}
    status = walk(ref, (api.mex, "report_prosecution_outcome", {"outcome": "Condenado a 20 años"}))
    assert (status["state"], status["outcome"]) == ("closed", "closed")


def test_no_grant_before_the_court_has_ruled(api):
    ref = create(api.arg, FORMAL)
    walk(
        ref,
        (api.arg, "transmit_formal_request", {}),
        (api.mex, "acknowledge", {}),
        (api.mex, "open_consultation", {"reasons": REASONS}),
    )
    events = available(api.mex_supervisor, ref)
    assert "grant" not in events and {"refuse", "resume_review"} <= set(events)
    status = ok(api.mex.get(f"/requests/{ref}"))
    assert [d["name"] for d in status["deadlines"]] == ["document_review"]


def test_consultation_to_conditions_declined(api):
    ref = to_court(api)
    walk(
        ref,
        (api.court, "rule_extraditable", {"ruling": "Procede la extradición."}),
        (api.mex, "open_consultation", {"reasons": REASONS}),
    )
    status = walk(ref, (api.mex_supervisor, "extend_decision_deadline", {"reasons": REASONS}))
    assert status["state"] == "consultation"
    again = available(api.mex_supervisor, ref)["extend_decision_deadline"]
    assert again["allowed"] is False and "already been extended" in again["reason"]
    status = walk(
        ref,
        (
            api.mex_supervisor,
            "grant_with_conditions",
            {
                "conditions": "No death penalty; credit for time in custody (16.11).",
                "surrender_window_start": mexico_today().isoformat(),
            },
        ),
    )
    assert (status["state"], status["holder"]) == ("granted_with_conditions", "ARG-DAJIN")
    assert api.arg.fire(ref, "decline_conditions", reasons=REASONS).status_code == 403
    status = walk(ref, (api.arg_supervisor, "decline_conditions", {"reasons": REASONS}))
    assert (status["state"], status["outcome"]) == ("conditions_declined", "conditions_declined")


def test_released_when_not_collected_in_the_window(api):
    ref = to_court(api)
    notified = (mexico_today() - timedelta(days=31)).isoformat()
    status = walk(
        ref,
        (api.court, "rule_extraditable", {"ruling": "Procede la extradición."}),
        (api.mex_supervisor, "grant", {"surrender_window_start": notified}),
        (api.mex, "release_not_collected", {}),
    )
    assert (status["state"], status["outcome"]) == (
        "released_not_collected",
        "released_not_collected",
    )


def test_provisional_arrest_refused_or_not_located_then_withdrawn(api):
    refused = create(api.arg, PROVISIONAL)
    walk(refused, (api.arg, "request_provisional_arrest", {}))
    assert api.mex.fire(refused, "refuse_provisional_arrest", reasons=REASONS).status_code == 403
    status = walk(refused, (api.mex_supervisor, "refuse_provisional_arrest", {"reasons": REASONS}))
    assert (status["state"], status["holder"]) == ("provisional_arrest_refused", "ARG-DAJIN")
    status = walk(refused, (api.arg, "withdraw", {"reasons": "No longer sought."}))
    assert status["outcome"] == "withdrawn"

    lost = create(api.arg, PROVISIONAL)
    status = walk(
        lost,
        (api.arg, "request_provisional_arrest", {}),
        (api.mex, "report_not_located", {"reasons": "Not at the address given."}),
    )
    assert status["state"] == "person_not_located"
    status = walk(lost, (api.arg, "renew_provisional_arrest", {"probable_location": "Tulum"}))
    assert status["state"] == "provisional_arrest_requested"


# --- release for lapse, on a committed database the CLI worker also sees ------------------


@pytest.fixture
def live(migrated_database_url: str, tmp_path: Path):
    """An app on a database of its own (real commits), its callers, and ``mla`` commands
    run against the same database."""
    config = {
        "TESTING": True,
        "MLA_INSTANCE_DIR": str(tmp_path / "instance"),
        "MLA_DATABASE_URL": migrated_database_url,
    }
    app = create_app(config)
    with app.app_context():
        session: Session = app.extensions["mla.db"].sessionmaker()
        arg = authorities.add_authority(
            session, "ARG-DAJIN", country="AR", name="DAJIN",
            timezone="America/Argentina/Buenos_Aires",
        )  # fmt: skip
        mex = authorities.add_authority(
            session, "MEX-FGR", country="MX", name="FGR", timezone="America/Mexico_City"
        )
        authorities.add_authority(
            session, "MEX-FEMDO", country="MX", name="FEMDO", timezone="America/Mexico_City",
            kind=AuthorityKind.EXECUTING, parent_code="MEX-FGR",
        )  # fmt: skip
        for authority, role in ((arg, "clerk"), (mex, "clerk"), (mex, "supervisor")):
            name = f"{authority.code.lower()}.{role}"
            authorities.add_user(
                session, name, authority_code=authority.code, role=role,
                email=f"{name}@example.org", password="correct-horse-42",
            )  # fmt: skip
        client = app.test_client()
        callers = {
            "arg": Api(client, tokens.create(session, arg)[1]),
            "mex": Api(client, tokens.create(session, mex)[1]),
        }
        session.commit()
        session.close()
    runner = CliRunner()
    env = {
        "MLA_DATABASE_URL": migrated_database_url,
        "MLA_INSTANCE_DIR": config["MLA_INSTANCE_DIR"],
    }

    def mla(*args: str):
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    yield app, callers, mla
    app.extensions["mla.db"].engine.dispose()


def test_release_for_lapse_at_the_deadline(live):
    app, callers, mla = live
    arg, mex = callers["arg"], callers["mex"]
    with app.app_context():
        ref = create(arg, PROVISIONAL)
        walk(ref, (arg, "request_provisional_arrest", {}))
        arrested = mexico_today() - timedelta(days=60)
        status = walk(ref, (mex, "record_arrest", {"arrest_date": arrested.isoformat()}))
        (clock,) = [d for d in status["deadlines"] if d["name"] == "formal_request"]
    due = datetime.fromisoformat(clock["due_at"])
    assert due == datetime.combine(mexico_today(), time.max, tzinfo=MEXICO).astimezone(UTC)

    # At the deadline the worker tells both sides: Argentina to send the formal request,
    # Mexico's clerks, supervisors and head to release the person.
    result = mla("worker", "--once", "--now", (due + timedelta(minutes=1)).isoformat())
    assert result.exit_code == 0, result.output
    assert result.output.startswith("fired 4 escalation steps")
    engine = make_engine(app.config["MLA_DATABASE_URL"])
    with Session(engine) as session:
        told = {
            n.address
            for n in session.scalars(select(Notification).where(Notification.level == 4))
            if n.address
        }
    engine.dispose()
    assert told == {"arg-dajin.clerk@example.org", "mex-fgr.clerk@example.org",
                    "mex-fgr.supervisor@example.org"}  # fmt: skip

    with app.app_context():
        # Still the last day in Mexico: release is not due yet, whatever UTC says.
        assert available(mex, ref)["release_for_lapse"]["allowed"] is False
        # The arrest was in fact a day earlier: corrected, not overwritten.
        earlier = (arrested - timedelta(days=1)).isoformat()
        status = walk(
            ref, (mex, "correct_arrest_date", {"arrest_date": earlier, "reasons": REASONS})
        )
        assert status["state"] == "person_arrested"
        assert available(mex, ref)["release_for_lapse"]["allowed"] is True
        status = walk(ref, (mex, "release_for_lapse", {}))
    assert status["state"] == "released_for_lapse"
    assert [h["event"] for h in status["history"]][-2:] == [
        "correct_arrest_date",
        "release_for_lapse",
    ]
    assert mla("audit", "verify").exit_code == 0
