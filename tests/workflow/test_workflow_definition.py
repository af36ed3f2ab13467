"""The loader and validator: the real definitions pass, each broken one is rejected."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from workflow_support import WORKFLOWS

from mla.errors import NotFound
from mla.workflow import WorkflowInvalid, check, check_all, load, load_all
from mla.workflow.loader import build
from mla.workflow.model import Duration

INVALID = Path(__file__).resolve().parents[1] / "workflows" / "invalid"
INVALID_FILES = sorted(INVALID.glob("*.yaml"))


@pytest.mark.parametrize("name", ["mla.yaml", "extradition.yaml"])
def test_real_definitions_are_valid(name):
    assert check(WORKFLOWS / name) == []


def test_there_is_one_broken_file_per_rule():
    assert len(INVALID_FILES) >= 10


@pytest.mark.parametrize("path", INVALID_FILES, ids=lambda p: p.stem)
def test_invalid_definition_is_rejected_with_line_and_reason(path):
    header = re.match(r"# expect: (\d+): (.+)", path.read_text().splitlines()[0])
    assert header, f"{path.name} lacks its '# expect: LINE: reason' header"
    line, reason = int(header[1]), header[2]
    errors = check(path)
    assert any(e.line == line and reason in e.reason for e in errors), errors
    assert all(str(e).startswith(f"{path}:{e.line}: ") for e in errors)
    with pytest.raises(WorkflowInvalid):
        load(path)


def test_mla_encodes_the_process(workflows):
    wf = workflows.latest("mla")
    assert wf.initial == "draft"
    owners = {s.name: s.owner for s in wf.states.values()}
    assert owners["information_requested"] == "requesting"
    assert owners["in_execution"] == "executing"
    assert wf.states["information_requested"].clock_stops == ("decision",)
    into_refusal = {(t.event, s) for t in wf.transitions if t.dest == "refused" for s in t.sources}
    # Refusal only through consultation (18.26), before execution or during it.
    assert into_refusal == {("refuse", "consultation"), ("refuse", "execution_consultation")}
    assert {t.dest for t in wf.transitions_from("consultation")} >= {
        "accepted",
        "conditions_proposed",
        "postponed",
        "refused",
    }
    # Every open state can be withdrawn from by the requesting state.
    withdraw = next(t for t in wf.transitions if t.event == "withdraw")
    assert set(withdraw.sources) == {s.name for s in wf.states.values() if not s.final}
    assert withdraw.by == "requesting"


def test_service_level_targets_are_deadline_figures(workflows):
    wf = workflows.latest("mla")
    _, ack = wf.deadline("acknowledgement")
    assert ack.within == Duration(None, "calendar_days", "acknowledge_days")
    assert ack.within.resolve(wf.figures("untoc-18")) == (7, "calendar_days")
    _, execution = wf.deadline("execution")
    assert execution.anchor == "needed_by"
    assert execution.within.resolve(wf.figures("iacmamc")) == (90, "calendar_days")


def test_extradition_formal_request_clock_is_a_basis_figure(workflows):
    wf = workflows.latest("extradition")
    state, deadline = wf.deadline("formal_request")
    assert state.name == "person_arrested"
    assert deadline.anchor_field == "arrest_date"
    assert deadline.within.figure == "formal_request_days"
    assert wf.figures("iace")["formal_request_days"] == 60
    assert [s.level for s in deadline.escalation] == [1, 2, 3, 4]
    assert deadline.escalation[0].offset == Duration(-15, "calendar_days")


@pytest.mark.parametrize("name", ["mla", "extradition"])
def test_every_deadline_has_a_ladder(workflows, name):
    wf = workflows.latest(name)
    deadlines = [d for s in wf.states.values() for d in s.deadlines]
    assert deadlines and all(d.escalation for d in deadlines)


def test_fiscal_matters_and_bank_secrecy_are_never_grounds(workflows):
    for wf in workflows:
        for basis in wf.legal_bases.values():
            codes = " ".join(c.code for c in basis.refusal_grounds)
            assert "bank" not in codes and "fiscal" not in codes


def test_versions_are_kept_side_by_side(tmp_path):
    shutil.copy(WORKFLOWS / "mla.v1.yaml", tmp_path / "mla.v1.yaml")
    text = (WORKFLOWS / "mla.v1.yaml").read_text().replace("version: 1", "version: 2", 1)
    (tmp_path / "mla.yaml").write_text(text)
    loaded = load_all(tmp_path)
    assert loaded.latest("mla").version == 2
    assert loaded.get("mla", 1).version == 1
    assert len(loaded) == 2
    with pytest.raises(NotFound):
        loaded.get("mla", 3)
    with pytest.raises(NotFound):
        loaded.latest("assets")


def test_current_file_must_hold_the_latest_version(tmp_path):
    shutil.copy(WORKFLOWS / "mla.v1.yaml", tmp_path / "mla.yaml")
    text = (WORKFLOWS / "mla.v1.yaml").read_text().replace("version: 1", "version: 2", 1)
    (tmp_path / "mla.v2.yaml").write_text(text)
    _, errors = check_all(sorted(tmp_path.iterdir()))
    assert any("must hold the latest version" in e.reason for e in errors)


def test_file_name_must_match_the_definition(tmp_path):
    shutil.copy(WORKFLOWS / "mla.yaml", tmp_path / "assistance.yaml")
    _, errors = check_all([tmp_path / "assistance.yaml"])
    assert [e.reason for e in errors] == [
        "file name says 'assistance' but the definition is named 'mla'"
    ]


def test_yaml_cannot_build_python_objects(tmp_path):
    bad = tmp_path / "mla.yaml"
    bad.write_text("name: !!python/object/apply:os.system ['true']\n")
    errors = check(bad)
    assert len(errors) == 1 and errors[0].line == 1 and "YAML" in errors[0].reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 business days", Duration(3, "business_days")),
        ("1 business day", Duration(1, "business_days")),
        ("7 calendar days", Duration(7, "calendar_days")),
        ("24 hours", Duration(24, "hours")),
        ("2 months", Duration(2, "months")),
        ("+5 business days", Duration(5, "business_days")),
    ],
)
def test_a_deadline_is_written_in_the_loaders_duration_grammar(tmp_path, text, expected):
    # The one grammar for durations: a deadline's ``within`` as the loader reads it.
    path = tmp_path / "mla.yaml"
    source = (WORKFLOWS / "mla.yaml").read_text()
    path.write_text(source.replace("within: 3 business days", f"within: {text}", 1))
    wf, errors = build(path)
    assert errors == [] and wf is not None
    _, deadline = wf.deadline("written_confirmation")
    assert deadline.within == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("3 days", "must be a duration such as '10 business days'"),
        ("ten business days", "must be a duration such as '10 business days'"),
        ("2 weeks", "must be a duration such as '10 business days'"),
        ("3 business hours", "must be a duration such as '10 business days'"),
        ("-3 business days", "must not be negative"),
    ],
)
def test_a_duration_outside_the_grammar_is_rejected_with_its_line(tmp_path, text, reason):
    path = tmp_path / "mla.yaml"
    source = (WORKFLOWS / "mla.yaml").read_text()
    path.write_text(source.replace("within: 3 business days", f"within: {text}", 1))
    line = source[: source.index("within: 3 business days")].count("\n") + 1
    _, errors = build(path)
    assert [(e.line, reason in e.reason) for e in errors] == [(line, True)]
