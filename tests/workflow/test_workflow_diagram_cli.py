"""The Mermaid diagram and the `workflows` CLI group."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner
from workflow_support import WORKFLOWS

from mla.cli.workflows import workflows as workflows_cli
from mla.workflow import mermaid


@pytest.mark.parametrize("name", ["mla", "extradition"])
def test_diagram_shows_every_state_and_owner(workflows, name):
    wf = workflows.latest(name)
    text = mermaid(wf, current="draft")
    assert text.startswith("stateDiagram-v2\n")
    for state in wf.states.values():
        assert f" as {state.name}\n" in text
        assert f"({state.owner})" in text
    assert "    class draft current\n" in text
    assert "classDef requesting" in text and "classDef executing" in text
    assert f"    [*] --> {wf.initial}\n" in text


def test_diagram_self_loop_for_staying_events(workflows):
    text = mermaid(workflows.latest("mla"))
    assert "in_execution --> in_execution: transmit_partial_results" in text
    assert "class draft current" not in text


@pytest.fixture
def runner(monkeypatch, tmp_path):
    for f in WORKFLOWS.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    monkeypatch.setenv("MLA_WORKFLOWS_DIR", str(tmp_path))
    return CliRunner()


def test_check_all_ok(runner):
    result = runner.invoke(workflows_cli, ["check"])
    assert result.exit_code == 0, result.output
    # One per file in workflows/ (older versions are kept beside the current ones); only a
    # superseded version may carry dead ends, as warnings.
    count = len(list(WORKFLOWS.glob("*.yaml")))
    *warnings, last = result.output.splitlines()
    assert all(".v1.yaml:" in w and ": warning: " in w for w in warnings), warnings
    suffix = f" ({len(warnings)} warnings)" if warnings else ""
    assert last == f"{count} workflow definitions OK{suffix}"


def test_check_reports_file_and_line(runner, tmp_path):
    bad = tmp_path / "mla.yaml"
    bad.write_text(bad.read_text().replace("guards: [complete]", "guards: [magic]", 1))
    result = runner.invoke(workflows_cli, ["check", str(bad)])
    assert result.exit_code == 1
    line = next(
        i for i, text in enumerate(bad.read_text().splitlines(), 1) if "submit_for_review" in text
    )
    assert (
        result.output
        == f"{bad}:{line}: transition 'submit_for_review' names unknown guard 'magic'\n"
    )


def test_list(runner, tmp_path):
    result = runner.invoke(workflows_cli, ["list"])
    assert result.exit_code == 0
    rows = [line.split("\t") for line in result.output.splitlines()]
    listed = [(r[0], r[1]) for r in rows]
    assert ("mla", "1") in listed and ("mla", "2") in listed
    assert rows[listed.index(("mla", "2"))][3] == str(tmp_path / "mla.yaml")
    assert rows[listed.index(("mla", "1"))][3] == str(tmp_path / "mla.v1.yaml")


def test_diagram_command(runner):
    result = runner.invoke(workflows_cli, ["diagram", "extradition", "--current", "judicial_phase"])
    assert result.exit_code == 0
    assert "class judicial_phase current" in result.output
    result = runner.invoke(workflows_cli, ["diagram", "seizure"])
    assert result.exit_code == 1
    assert "no workflow named 'seizure'" in result.output
    result = runner.invoke(workflows_cli, ["diagram", "mla", "--version", "7"])
    assert result.exit_code == 1
