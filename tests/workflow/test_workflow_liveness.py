"""Liveness: dead ends are found from the definition alone; the guards' declared needs are
what the check, the engine's ``available`` and the API read."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from workflow_support import NOW, WORKFLOWS, Req

from mla.cli.workflows import workflows as workflows_cli
from mla.errors import Conflict
from mla.workflow import Engine, check, check_all, load, load_all
from mla.workflow.definition import WorkflowInvalid
from mla.workflow.registry import Requirement, missing, requirements

INVALID = Path(__file__).resolve().parents[1] / "workflows" / "invalid"
FROZEN = (INVALID / "liveness_fields_frozen.yaml").read_text()
REQUESTING = frozenset({"requesting"})
REQUESTED = frozenset({"requested"})

# The resend event of liveness_fields_frozen.yaml, taking the facts it requires as an input
# (optional, so that the guard, not the input check, is what refuses a resend without them).
RESEND_WITH_FACTS = (
    "  - event: resend\n"
    "    sources: [corrections]\n"
    "    dest: review\n"
    "    by: requesting\n"
    "    guards: [complete]\n"
    "    labels: {en: Resend}\n"
    "    inputs:\n"
    "      - {name: facts, type: longtext, to_field: facts, labels: {en: Facts}}\n"
)


def _frozen_line(text: str) -> str:
    return next(line for line in text.splitlines(keepends=True) if "event: resend" in line)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_an_event_supplying_the_required_fields_as_inputs_is_alive(tmp_path):
    fixed = FROZEN.replace(_frozen_line(FROZEN), RESEND_WITH_FACTS)
    assert check(write(tmp_path / "tiny.yaml", fixed)) == []


def test_a_completeness_check_before_transmission_keeps_the_fields(tmp_path):
    # Sending through `complete` guarantees the facts for ever after: resending may ask again.
    fixed = FROZEN.replace(
        "dest: review, by: requesting, labels: {en: Send}",
        "dest: review, by: requesting, guards: [complete], labels: {en: Send}",
    )
    assert check(write(tmp_path / "tiny.yaml", fixed)) == []


def test_a_period_that_runs_out_counts_as_able_to_fire(tmp_path):
    text = (INVALID / "liveness_no_final.yaml").read_text()
    # The arrest date now comes with the question: the lapse it anchors will come with time.
    fixed = text.replace(
        "{event: ask, sources: [review], dest: questions, by: requested, labels: {en: Ask}}",
        "{event: ask, sources: [review], dest: questions, by: requested, labels: {en: Ask}, "
        "inputs: [{name: arrest_date, type: date, required: true, to_field: arrest_date}]}",
    )
    assert check(write(tmp_path / "tiny.yaml", fixed)) == []


def test_an_executing_authority_named_on_every_path_makes_the_court_alive(tmp_path):
    text = (INVALID / "liveness_party_absent.yaml").read_text()
    fixed = text.replace(
        "{event: refer, sources: [review], dest: in_court, by: requested, labels: {en: Refer}}",
        "{event: refer, sources: [review], dest: in_court, by: requested, labels: {en: Refer}, "
        "inputs: [{name: executing_authority, type: authority, required: true}]}",
    )
    assert check(write(tmp_path / "tiny.yaml", fixed)) == []


def test_dead_ends_of_a_superseded_version_are_warnings(tmp_path, monkeypatch):
    dead = FROZEN.split("\n", 1)[1]
    write(tmp_path / "tiny.v1.yaml", dead)
    fixed = dead.replace("version: 1", "version: 2", 1).replace(
        _frozen_line(dead), RESEND_WITH_FACTS
    )
    write(tmp_path / "tiny.yaml", fixed)
    _, errors = check_all(sorted(tmp_path.iterdir()))
    assert [(Path(e.file).name, e.line, e.warning) for e in errors] == [("tiny.v1.yaml", 15, True)]
    assert str(errors[0]).startswith(
        f"{tmp_path / 'tiny.v1.yaml'}:15: warning: state 'corrections'"
    )

    monkeypatch.setenv("MLA_WORKFLOWS_DIR", str(tmp_path))
    result = CliRunner().invoke(workflows_cli, ["check"])
    assert result.exit_code == 0, result.output
    assert result.output == f"{errors[0]}\n2 workflow definitions OK (1 warnings)\n"
    # The old version still loads, for the requests opened under it.
    loaded = load_all(tmp_path)
    assert loaded.get("tiny", 1).version == 1
    assert loaded.findings == tuple(errors)


def test_dead_ends_of_the_newest_version_fail_the_check_and_the_start(tmp_path, monkeypatch):
    write(tmp_path / "tiny.yaml", FROZEN)
    monkeypatch.setenv("MLA_WORKFLOWS_DIR", str(tmp_path))
    result = CliRunner().invoke(workflows_cli, ["check"])
    assert result.exit_code == 1
    assert result.output.startswith(f"{tmp_path / 'tiny.yaml'}:16: state 'corrections'")
    with pytest.raises(WorkflowInvalid, match=r"tiny\.yaml:16: state 'corrections'"):
        load_all(tmp_path)


def _extradition_v1() -> Path:
    """Where extradition version 1 lives: its own file once a newer version replaced it."""
    kept = WORKFLOWS / "extradition.v1.yaml"
    return kept if kept.exists() else WORKFLOWS / "extradition.yaml"


def test_extradition_v1_dead_ends_are_found():
    """The two a practitioner found — the formal request blocked after a provisional arrest,
    a court phase with no court — and the provisional arrest as the point of no return."""
    found = {e.reason.split(":", 1)[0]: e.reason for e in check(_extradition_v1())}
    assert sorted(found) == [
        "state 'judicial_phase' (executing)",
        "state 'provisional_arrest_requested' (requested)",
        "state 'released_for_lapse' (requesting)",
    ]
    court = found["state 'judicial_phase' (executing)"]
    assert "reached by transmit_formal_request, acknowledge, refer_to_court" in court
    assert "by the executing party, and no event on the way names an executing authority" in court
    lapse = found["state 'released_for_lapse' (requesting)"]
    assert "guard 'complete' requires laws_text, identification" in lapse
    assert "only 'withdraw' (open from every state) is left" in lapse
    arrest = found["state 'provisional_arrest_requested' (requested)"]
    assert "no final state can be reached from here" in arrest
    assert "'transmit_formal_request' from 'provisional_arrest_requested', 'person_arrested'" in (
        arrest
    )


def test_requirements_say_when_each_field_is_required(workflows):
    wf = workflows.get("extradition", 1)
    transmit = next(t for t in wf.transitions if t.event == "transmit_formal_request")
    needs = {r.name: r for r in requirements(wf, transmit)}
    assert needs["laws_text"] == Requirement("laws_text")
    assert needs["treaty"] == Requirement("treaty", bases=("bilateral",))
    assert "arrest_date" not in needs
    provisional = next(t for t in wf.transitions if t.event == "request_provisional_arrest")
    assert [r.name for r in requirements(wf, provisional)] == [
        "person_description",
        "probable_location",
        "facts",
        "laws_violated",
        "warrant_or_judgment",
        "undertaking",
        "channel",
    ]
    mla = workflows.latest("mla")
    submit = next(t for t in mla.transitions if t.event == "submit_for_review")
    facts = next(r for r in requirements(mla, submit) if r.name == "facts")
    assert facts.unless == {"assistance_types": ("service_of_documents",)}


def test_an_event_can_supply_what_its_own_guard_requires(tmp_path):
    wf = load(
        write(tmp_path / "tiny.yaml", FROZEN.replace(_frozen_line(FROZEN), RESEND_WITH_FACTS))
    )
    engine = Engine(wf)
    resend = next(t for t in wf.transitions if t.event == "resend")
    assert missing(wf, resend, "reciprocity", {}) == []
    req = Req("corrections", legal_basis="reciprocity", kind="tiny")
    [open_now, _] = engine.available(req, parties=REQUESTING, role="clerk", now=NOW)
    assert (open_now.event, open_now.allowed, open_now.missing) == ("resend", True, ())
    with pytest.raises(Conflict, match="facts is required"):
        engine.fire(req, "resend", parties=REQUESTING, role="clerk", inputs={}, now=NOW)
    engine.fire(req, "resend", parties=REQUESTING, role="clerk", inputs={"facts": "A"}, now=NOW)
    assert req.state == "review"


def test_available_names_the_fields_an_event_still_misses(engines):
    ext = engines.get("extradition", 1)
    req = Req("person_arrested", legal_basis="bilateral", kind="extradition")
    req.fields = {"person_description": "Tall", "facts": "Robbery", "arrest_date": "2026-03-01"}
    transmit = next(
        a
        for a in ext.available(req, parties=REQUESTING, role="clerk", now=NOW)
        if a.event == "transmit_formal_request"
    )
    assert not transmit.allowed
    assert transmit.missing == (
        "laws_violated",
        "warrant_or_judgment",
        "laws_text",
        "identification",
        "treaty",
    )
