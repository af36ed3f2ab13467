"""Rendering of what does not change per request: workflow definitions and the directory."""

from __future__ import annotations

from mla.api import schemas as s
from mla.authorities.models import Authority, Treaty
from mla.workflow.model import Choice, Input, Workflow, label
from mla.workflow.registry import requirements


def choices(items: tuple[Choice, ...], lang: str) -> list[s.ChoiceOut]:
    return [s.ChoiceOut(code=c.code, label=label(c.labels, lang)) for c in items]


def _input(i: Input, wf: Workflow, lang: str) -> s.InputOut:
    grounds = i.choices_from == "refusal_grounds"
    return s.InputOut(
        name=i.name,
        type=i.type,
        required=i.required,
        label=label(i.labels, lang),
        # Refusal grounds depend on the request's basis: listed per request in its status.
        choices=choices(i.choices, lang) if i.choices and not grounds else None,
        to_field=i.to_field,
    )


def workflow(wf: Workflow, lang: str) -> s.WorkflowOut:
    return s.WorkflowOut(
        name=wf.name,
        version=wf.version,
        label=label(wf.labels, lang),
        initial=wf.initial,
        fields=[
            s.FieldOut(
                name=f.name,
                type=f.type,
                # A field of some bases only is required under those, not under every one.
                required=f.required and not f.bases,
                label=label(f.labels, lang),
                choices=choices(f.choices, lang) if f.choices else None,
                required_in=list(f.required_in),
                bases=list(f.bases) or None,
                required_under=list(f.bases) if f.required and f.bases else None,
            )
            for f in wf.fields
        ],
        states=[
            s.StateOut(
                name=st.name,
                owner=st.owner,
                final=st.final,
                label=label(st.labels, lang),
                kind=st.kind,
                deadlines=[
                    s.DeadlineDef(
                        name=d.name,
                        label=label(d.labels, lang),
                        within=str(d.within).lstrip("+"),
                        anchor=d.anchor,
                    )
                    for d in st.deadlines
                ],
            )
            for st in wf.states.values()
        ],
        transitions=[
            s.TransitionOut(
                event=t.event,
                label=label(t.labels, lang),
                sources=list(t.sources),
                dest=t.dest,
                by=t.by,
                roles=list(t.roles),
                inputs=[_input(i, wf, lang) for i in t.inputs],
                requires=[
                    s.RequirementOut(
                        field=r.name,
                        bases=list(r.bases) or None,
                        unless={k: list(v) for k, v in r.unless.items()} or None,
                    )
                    for r in requirements(wf, t)
                ],
            )
            for t in wf.transitions
        ],
        legal_bases=[
            s.LegalBasisOut(
                code=b.code,
                label=label(b.labels, lang),
                refusal_grounds=choices(b.refusal_grounds, lang),
            )
            for b in wf.legal_bases.values()
        ],
    )


def treaty(t: Treaty) -> s.TreatyOut:
    return s.TreatyOut(
        code=t.code,
        name=t.name,
        states=[t.state_a, t.state_b],
        figures=dict(t.figures),
        reference=t.reference,
    )


def authority(a: Authority) -> s.AuthorityOut:
    return s.AuthorityOut(
        code=a.code,
        country=a.country,
        name=a.name,
        kind=a.kind.value,
        parent=a.parent.code if a.parent else None,
        languages=list(a.languages or []),
        timezone=a.timezone,
        contact_points=list(a.contact_points or []),
        external=a.external,
    )
