"""What a document says: the values its template is filled with, from the request's data, the
step that issued it (its inputs as the history recorded them) and, for a certificate of custody,
the attachment's custody trail.

Only reads. :class:`~mla.documents.service.DocumentService` decides who issues a document,
renders these values into its template, lays it out, signs and stores it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from sqlalchemy import select
from sqlalchemy.orm import Session

from mla.audit import chain
from mla.audit.models import Event, EventKind
from mla.authorities.models import Authority, User
from mla.documents import catalog
from mla.documents.catalog import DocumentKind
from mla.documents.layout import Party
from mla.evidence.models import Attachment
from mla.requests.models import Request
from mla.requests.service import RequestService
from mla.workflow.model import Workflow, label


def long_date(value: date | datetime | str | None, lang: str) -> str:
    """A date as a letter writes it in ``lang`` ("7 December 2026"); text that is no ISO date
    stays as it is, and nothing reads as empty text."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value[:10])
        except ValueError:
            return value
        return str(format_date(day, format="long", locale=lang))
    return str(format_date(value, format="long", locale=lang))


def party(authority: Authority, lang: str) -> Party:
    """How ``authority`` appears on a letter in ``lang``: name, state, contact points."""
    state = Locale.parse(lang).territories.get(authority.country, authority.country)
    contacts = [
        " · ".join(str(c[k]) for k in ("name", "email", "phone") if c.get(k))
        for c in authority.contact_points or []
    ]
    return Party(authority.name, authority.code, state, [c for c in contacts if c])


class DocumentContents:
    """The values of a request's documents, read in one unit of work; ``templates``: the
    folder of an installation's own templates and words (see :mod:`mla.documents.catalog`)."""

    def __init__(self, session: Session, requests: RequestService, templates: str = "") -> None:
        self.session = session
        self.requests = requests
        self.templates = templates

    def _fields(
        self, wf: Workflow, request: Request, lang: str, w: dict[str, Any]
    ) -> dict[str, str]:
        out: dict[str, str] = {}
        for f in wf.fields:
            value = request.fields.get(f.name)
            out[f.name] = self._value(wf, request, f.type, f.choices, value, lang, w)
        return out

    def _value(
        self,
        wf: Workflow,
        request: Request,
        type_: str,
        choices: Any,
        value: Any,
        lang: str,
        w: dict[str, Any],
    ) -> str:
        if value is None or value == "" or value == []:
            return ""
        names = {c.code: label(c.labels, lang) for c in choices}
        if type_ == "choice":
            return names.get(str(value), str(value))
        if type_ == "multichoice" and isinstance(value, list):
            return "\n".join(f"• {names.get(str(v), str(v))}" for v in value)
        if type_ == "boolean":
            return str(w["yes"] if value else w["no"])
        if type_ == "date":
            return long_date(str(value), lang)
        if type_ == "language":
            return str(Locale.parse(lang).languages.get(str(value), value))
        if type_ == "persons" and isinstance(value, list):
            keys = w["person"]
            lines = []
            for person in value:
                if isinstance(person, dict):
                    parts = [f"{keys[k]}: {person[k]}" for k in keys if person.get(k)]
                    lines.append("• " + "; ".join(parts))
            return "\n".join(lines)
        if type_ == "attachments" and isinstance(value, list):
            rows = self.session.scalars(
                select(Attachment).where(
                    Attachment.request_id == request.id, Attachment.id.in_(value)
                )
            )
            return "\n".join(f"• {a.filename} (SHA-256 {a.sha256})" for a in rows)
        return str(value)

    def context(
        self,
        request: Request,
        kind: DocumentKind,
        issuer: Authority,
        lang: str,
        step: Event | None,
        attachment: Attachment | None,
    ) -> dict[str, Any]:
        """What the template of ``kind`` on ``request`` is filled with in ``lang``, issued by
        ``issuer``: the request's data, the inputs of ``step`` (the step that issued it, if
        any) and, for a certificate of custody, ``attachment``'s custody trail and whether
        the request's history chain is intact. A name the request lacks reads as empty."""
        wf = self.requests.engine(request).workflow
        w = catalog.words(lang, self.templates)
        basis = wf.legal_bases.get(request.legal_basis)
        executing = request.executing_authority
        ctx: dict[str, Any] = {
            "ref": request.reference,
            "their_ref": request.their_reference or "",
            "kind": label(wf.labels, lang),
            "issuer": _shown(party(issuer, lang)),
            "requesting": _shown(party(request.requesting_authority, lang)),
            "requested": _shown(party(request.requested_authority, lang)),
            "executing": _shown(party(executing, lang)) if executing else {},
            "basis": label(basis.labels, lang) if basis else request.legal_basis,
            "treaty": request.fields.get("treaty") or "",
            "urgent": request.urgency == "urgent",
            "needed_by": long_date(request.needed_by, lang),
            "needed_by_reason": request.needed_by_reason or "",
            "confidential": request.confidential,
            "fields": self._fields(wf, request, lang, w),
            "undertaking": bool(request.fields.get("undertaking")),
            "translations_attached": bool(request.fields.get("translations_attached")),
            "formal_request_days": wf.figures(request.legal_basis).get("formal_request_days"),
            "arrest_date": long_date(request.fields.get("arrest_date"), lang),
            "received_on": long_date(request.transmitted_at, lang),
        }
        inputs: dict[str, str] = {}
        raw = dict(step.data.get("inputs") or {}) if step is not None else {}
        transition = None
        if step is not None:
            engine = self.requests.engine(request)
            transition = next(
                (
                    t
                    for t in engine.workflow.transitions_from(step.data.get("from", ""))
                    if t.event == step.data.get("event")
                ),
                None,
            )
        grounds = wf.refusal_grounds(request.legal_basis)
        for i in transition.inputs if transition else ():
            choices = grounds if i.name == "grounds" else ()
            inputs[i.name] = self._value(wf, request, i.type, choices, raw.get(i.name), lang, w)
        ctx["inputs"] = _Blank(inputs)
        ctx["grounds"] = inputs.get("grounds", "")
        ctx["consulted"] = step is not None and "consultation" in str(step.data.get("from"))
        ctx["documents"] = inputs.get("documents", "")
        ctx["enclosures"] = self._enclosures(request) if kind.name == "results" else ""
        if attachment is not None:
            ctx.update(self._custody(request, attachment, lang, w))
        ctx["fields"] = _Blank(ctx["fields"])
        return ctx

    def _enclosures(self, request: Request) -> str:
        """The files the requested or executing side attached, other than its letters."""
        rows = self.session.scalars(
            select(Attachment)
            .where(
                Attachment.request_id == request.id,
                Attachment.uploaded_by_authority_id != request.requesting_authority_id,
            )
            .order_by(Attachment.id)
        )
        return "\n".join(
            f"• {a.filename} (SHA-256 {a.sha256})"
            for a in rows
            if not a.filename.startswith(f"{request.reference}-")
        )

    def _custody(
        self, request: Request, attachment: Attachment, lang: str, w: dict[str, Any]
    ) -> dict[str, Any]:
        kinds = (
            EventKind.EVIDENCE_UPLOADED,
            EventKind.EVIDENCE_DOWNLOADED,
            EventKind.EVIDENCE_VERIFIED,
        )
        lines = []
        for event in self.requests.history(request):
            if event.kind not in kinds or event.data.get("attachment") != attachment.id:
                continue
            who = []
            if event.actor_user_id is not None:
                who.append(self.session.get_one(User, event.actor_user_id).username)
            elif event.data.get("token") is not None:
                who.append(f"API {event.data['token']}")
            if event.actor_authority_id is not None:
                who.append(self.session.get_one(Authority, event.actor_authority_id).code)
            what = w["custody"][event.kind]
            if event.kind == EventKind.EVIDENCE_VERIFIED:
                what += f" ({w['custody'].get(event.data.get('result'), '')})"
            at = format_datetime(event.at, "yyyy-MM-dd HH:mm:ss", locale=lang)
            lines.append(f"• {at} · {what} · {' / '.join(who) or '—'} · #{event.seq}")
        broken = chain.verify_request(self.session, request)
        return {
            "attachment": {
                "filename": attachment.filename,
                "size": f"{attachment.size:,} {w['bytes']}".replace(",", " "),
                "media_type": attachment.media_type,
                "sha256": attachment.sha256,
            },
            "custody": "\n".join(lines),
            "chain_intact": broken is None,
            "chain_break": str(broken) if broken else "",
        }


def _shown(p: Party) -> dict[str, str]:
    """An authority for a template: its contact points one a line."""
    return {"name": p.name, "code": p.code, "state": p.state, "contacts": "\n".join(p.contacts)}


class _Blank(dict[str, str]):
    """Values for a template: a name the request does not have reads as empty text, so an
    authority's template may name any field of the workflow."""

    def __missing__(self, key: str) -> str:
        return ""
