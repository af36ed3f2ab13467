"""Helpers the views share: workflow lookups for templates, the plain-words history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from mla.audit.models import Event, EventKind
from mla.authorities.models import Authority, User
from mla.requests.models import Request
from mla.web.i18n import day, lang
from mla.web.views import history
from mla.workflow.engine import Engines
from mla.workflow.model import Workflow, label


class WorkflowLabels:
    """What templates need from the workflows: labels of kinds, states, deadlines, events."""

    def __init__(self, engines: Engines) -> None:
        self.engines = engines

    def workflow(self, request: Request) -> Workflow:
        return self.engines.get(request.kind, request.workflow_version).workflow

    def kinds(self) -> list[Workflow]:
        names = sorted({wf.name for wf in self.engines.workflows})
        return [self.engines.latest(n).workflow for n in names]

    def kind(self, name: str) -> str:
        try:
            return label(self.engines.latest(name).workflow.labels, lang())
        except Exception:  # an unknown kind: show its name rather than fail the page
            return name

    def state(self, request: Request, state: str | None = None) -> str:
        s = self.workflow(request).states.get(state or request.state)
        return label(s.labels, lang()) if s else (state or request.state)

    def deadline(self, request: Request, name: str) -> str:
        try:
            return label(self.workflow(request).deadline(name)[1].labels, lang())
        except KeyError:
            return name.replace("_", " ")

    def event(self, request: Request, event: str) -> str:
        for t in self.workflow(request).transitions:
            if t.event == event:
                return label(t.labels, lang())
        return event.replace("_", " ")

    def states(self) -> list[tuple[str, str]]:
        """(state name, label) of every workflow, for the list's filter."""
        seen: dict[str, str] = {}
        for wf in self.kinds():
            for s in wf.states.values():
                seen.setdefault(s.name, label(s.labels, lang()))
        return sorted(seen.items(), key=lambda kv: kv[1])


def channel_label(channel: str | None) -> str:
    """How a request from a state not on mla arrived, in the reader's language."""
    labels: dict[str, str] = {
        "diplomatic_note": _("Diplomatic note"),
        "email": _("E-mail"),
        "courier": _("Courier"),
        "interpol": _("INTERPOL"),
        "post": _("Post"),
    }
    return labels.get(channel or "", channel or "")


def party_label(party: str) -> str:
    """A request's party (the owner of a state, who takes a step) in the reader's language."""
    labels: dict[str, str] = {
        "requesting": _("requesting authority"),
        "requested": _("requested authority"),
        "executing": _("executing authority"),
    }
    return labels.get(party, party)


def workflow_labels() -> WorkflowLabels:
    """The labels (states, events, deadlines) of the current app's loaded workflows."""
    return WorkflowLabels(current_app.extensions["mla.engines"])


@dataclass(frozen=True)
class TimelineEntry:
    at: Any
    who: str
    text: str
    detail: str | None


def _who(event: Event, users: dict[int, User], authorities: dict[int, Authority]) -> str:
    authority = authorities.get(event.actor_authority_id or 0)
    user = users.get(event.actor_user_id or 0)
    who = user.username if user else _("API client")
    if authority is not None:
        who = f"{who} ({authority.code})"
    behalf = authorities.get(event.on_behalf_of_id or 0)
    if behalf is not None:
        who = _("%(who)s for %(authority)s", who=who, authority=behalf.code)
    return who


def timeline(
    request: Request,
    events: list[Event],
    users: dict[int, User],
    authorities: dict[int, Authority],
    wf: WorkflowLabels,
    authority_names: Mapping[str, str] | None = None,
) -> list[TimelineEntry]:
    """The hash-chained history of ``request`` told in plain words, oldest first; inputs
    under their labels, values formatted, the authorities they name by
    ``authority_names`` (code → name)."""
    authority_names = authority_names or {}
    out = []
    for e in events:
        d = e.data or {}
        detail = None
        if e.kind == EventKind.CREATED and d.get("received_on"):
            # Recorded by the requested side for a state not on mla (the actor says for whom).
            text = _(
                "Recorded the request as received on %(date)s (%(channel)s): %(state)s",
                date=day(d["received_on"]),
                channel=channel_label(d.get("channel")),
                state=wf.state(request, d.get("state")),
            )
        elif e.kind == EventKind.CREATED:
            text = _("Opened the request as %(state)s", state=wf.state(request, d.get("state")))
        elif e.kind == EventKind.TRANSITION:
            text = _(
                "%(event)s: %(source)s → %(dest)s",
                event=wf.event(request, d.get("event", "")),
                source=wf.state(request, d.get("from")),
                dest=wf.state(request, d.get("to")),
            )
            parts = history.inputs_detail(
                wf.workflow(request), request.legal_basis, d, authority_names
            )
            if d.get("received_on") or d.get("channel"):
                # A step recorded for an authority not on mla: when and how it arrived.
                parts.insert(
                    0,
                    _(
                        "received on %(date)s (%(channel)s)",
                        date=day(d["received_on"]) if d.get("received_on") else "—",
                        channel=channel_label(d.get("channel")) or "—",
                    ),
                )
            if d.get("comment"):
                parts.append(str(d["comment"]))
            detail = "\n".join(parts) or None
        elif e.kind == EventKind.ASSIGNED:
            text = _("Assigned to %(user)s", user=d["to"]) if d.get("to") else _("Unassigned")
        elif e.kind == EventKind.EVIDENCE_UPLOADED:
            text = _("Uploaded evidence %(name)s", name=d.get("filename") or d.get("name", ""))
        elif e.kind == EventKind.EVIDENCE_DOWNLOADED:
            text = _("Downloaded evidence %(name)s", name=d.get("filename") or d.get("name", ""))
        elif e.kind == EventKind.PROGRESS_QUERY:
            text = _("Asked where the request stands (API)")
        elif e.kind == EventKind.ASSET_REGISTER:
            text, detail = _asset_change(d)
        elif e.kind == EventKind.FIELDS_CHANGED:
            text = _(
                "Changed the fields %(names)s",
                names=history.field_labels(wf.workflow(request), d.get("fields", [])),
            )
        else:
            text = str(e.kind).replace("_", " ")
        out.append(TimelineEntry(e.at, _who(e, users, authorities), text, detail))
    return out


def _asset_change(d: dict[str, Any]) -> tuple[str, str | None]:
    """A change to the asset register, told in plain words (the values are in ``d``)."""
    action = d.get("action")
    if action == "item_added":
        item = d.get("item") or {}
        return _(
            "Added an asset to the register"
        ), f"{item.get('description')} ({item.get('currency')})"
    if action == "item_changed":
        changed = d.get("changed") or {}
        detail = "; ".join(f"{k}: {v.get('from')} → {v.get('to')}" for k, v in changed.items())
        return _("Changed an asset in the register"), detail or None
    if action == "status_moved":
        moved = d.get("items") or []
        detail = ", ".join(f"#{m.get('id')} {m.get('from')} → {m.get('to')}" for m in moved)
        return _("Moved the assets' status with the step"), detail
    if action == "share_agreed":
        share = d.get("share") or {}
        how = f"{share.get('percent')}%" if share.get("percent") else share.get("amount")
        return _(
            "Recorded a share of the disposal"
        ), f"{share.get('recipient')}: {how} {share.get('currency')}"
    transfer = d.get("transfer") or {}
    return _("Recorded a transfer"), (
        f"{transfer.get('recipient')}: {transfer.get('amount')} {transfer.get('currency')}"
        f" ({transfer.get('transferred_on')})"
    )
