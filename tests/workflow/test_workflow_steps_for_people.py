"""What the definitions tell the request page: steps that cannot be taken back, escapes open
from every state, fields later steps record, and the diagram drawn for people."""

from __future__ import annotations

from mla.workflow import mermaid


def test_irreversible_steps_are_declared_or_end_the_request(workflows):
    wf = workflows.latest("mla")
    t = {(t.event, s): t for t in wf.transitions for s in t.sources}
    assert wf.is_irreversible(t["sign", "translation"], "translation")
    assert wf.is_irreversible(t["transmit", "signed"], "signed")
    assert wf.is_irreversible(t["accept", "substantive_review"], "substantive_review")
    assert wf.is_irreversible(t["close", "results_transmitted"], "results_transmitted")
    assert wf.is_irreversible(t["withdraw", "draft"], "draft")  # into a final state
    assert not wf.is_irreversible(t["submit_for_review", "draft"], "draft")
    assert not wf.is_irreversible(t["acknowledge", "received"], "received")


def test_withdraw_is_the_escape_open_from_everywhere(workflows):
    for name in ("mla", "extradition", "assets"):
        wf = workflows.latest(name)
        assert [t.event for t in wf.transitions if wf.from_anywhere(t)] == ["withdraw"]


def test_fields_later_steps_record_are_not_the_drafters(workflows):
    assert workflows.latest("mla").recorded_by_steps() == {"resume_date", "execution_resume_date"}
    assert workflows.latest("extradition").recorded_by_steps() == {
        "arrest_date", "surrender_window_start", "resume_date", "return_date",
    }  # fmt: skip
    # Contents a later step may complete, but that the drafter may already know, stay.
    assert "translations_attached" not in workflows.latest("extradition").recorded_by_steps()
    assert workflows.latest("assets").recorded_by_steps() == {
        "freeze_expiry", "confiscation_route", "disposal",
    }  # fmt: skip


def test_the_diagram_for_people_speaks_their_language_without_escape_arrows(workflows):
    wf = workflows.latest("mla")
    text = mermaid(wf, current="received", lang="es", people=True)
    assert "received --> acknowledged" not in text  # states by name, events by label
    assert ": Acusar recibo" in text and ": acknowledge" not in text
    assert "--> withdrawn" not in text and "Retirar" not in text
    assert text.count("-->") < 70
    assert "withdrawn" in text  # the state itself is still drawn
