"""Snapshots of every message template in every language, as a recipient reads it.

A change to a template shows here as a diff of the text people receive. To accept a deliberate
change, rerun with ``MLA_UPDATE_SNAPSHOTS=1`` and review the files under ``snapshots/``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from mla.notify.messages import recipient_names, render
from mla.workflow import WorkflowSet
from mla.workflow.model import LANGUAGES, label

SNAPSHOTS = Path(__file__).parent / "snapshots"


def _escalation(workflows: WorkflowSet, lang: str, *, counterpart: bool) -> dict[str, Any]:
    wf = workflows.get("extradition", 1)
    _, deadline = wf.deadline("formal_request")
    return {
        "reference": "EXT-MEX-2026-00007",
        "deadline": label(deadline.labels, lang),
        "overdue": counterpart,
        "due": "2026-05-04",
        "timezone": "America/Mexico_City",
        "counterpart": counterpart,
        "authority": "MEX-FGR",
        "state": label(wf.states["person_arrested"].labels, lang),
        "holder": "MEX-FGR",
        "link": "https://mla.example.org/requests/EXT-MEX-2026-00007",
        "level": 2,
        "roles": recipient_names(["assignee", "supervisors"], lang),
    }


def _state_changed(workflows: WorkflowSet, lang: str) -> dict[str, Any]:
    wf = workflows.get("mla", 1)
    return {
        "reference": "MLA-ARG-2026-00042",
        "holder": "MEX-FGR",
        "state": label(wf.states["received"].labels, lang),
    }


CASES = {
    "escalation": lambda wfs, lang: _escalation(wfs, lang, counterpart=False),
    "escalation-counterpart": lambda wfs, lang: _escalation(wfs, lang, counterpart=True),
    "state_changed": _state_changed,
}


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
@pytest.mark.parametrize("case", sorted(CASES))
def test_message_matches_its_snapshot(workflows: WorkflowSet, case: str, lang: str) -> None:
    subject, body = render(case.split("-")[0], lang, **CASES[case](workflows, lang))
    text = f"Subject: {subject}\n\n{body}"
    snapshot = SNAPSHOTS / f"{case}.{lang}.txt"
    if os.environ.get("MLA_UPDATE_SNAPSHOTS"):
        snapshot.write_text(text, encoding="utf-8")
    assert text == snapshot.read_text(encoding="utf-8")
