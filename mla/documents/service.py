"""The document service: writes a request's formal documents, signs them, stores them.

A document is issued by one party's authority (the letter of request by the requesting
authority, a refusal by the requested one, ...), in one of the four languages, from the
request's data and, for documents a step issues, from that step's inputs as its history
recorded them. It is signed with the issuing authority's key (:mod:`mla.documents.signing`)
and kept as an evidence attachment of the request: encrypted, with its custody events, open
to the counterpart as any evidence is.

The PDF is built and signed in memory (a letter is a few dozen kilobytes) and handed to the
evidence intake as a stream: no plaintext file is ever written.

Methods flush; the boundary commits.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from sqlalchemy import select
from sqlalchemy.orm import Session

from mla.audit import chain
from mla.audit.models import Event, EventKind
from mla.authorities.models import Authority, User
from mla.db import utcnow
from mla.documents import catalog
from mla.documents.catalog import DocumentKind
from mla.documents.layout import Header, Party, layout
from mla.documents.signing import SigningKeys, sign
from mla.errors import N_, FieldError, Invalid, NotAllowed, NotFound
from mla.evidence.models import Attachment
from mla.evidence.service import EvidenceService
from mla.requests.models import Request
from mla.requests.service import Actor, RequestService
from mla.workflow.model import Workflow, label


def _date(value: date | datetime | str | None, lang: str) -> str:
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


class DocumentService:
    def __init__(
        self,
        session: Session,
        requests: RequestService,
        evidence: EvidenceService,
        keys: SigningKeys,
        *,
        templates: str = "",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.session = session
        self.requests = requests
        self.evidence = evidence
        self.keys = keys
        self.templates = templates
        self.clock = clock

    # --- who may issue what ------------------------------------------------------------------

    def issuer(self, request: Request, actor: Actor, kind: DocumentKind) -> Authority:
        """The authority that issues ``kind`` on ``request`` when ``actor`` asks for it.

        Only the issuing party's own authority writes and signs its documents (a certificate
        of custody: any party's, for itself); a party recorded on an external authority's
        behalf issues nothing in that authority's name. Raises NotFound if the actor is no
        party, Invalid (field ``document``) for a document of another workflow, NotAllowed
        for a document another party issues."""
        parties = self.requests.parties(request, actor)
        if not parties:
            raise NotFound(N_("no request %(reference)s"), {"reference": request.reference})
        if not kind.applies_to(request.kind):
            raise Invalid(
                FieldError(
                    "document",
                    N_("a %(kind)s request has no %(name)s"),
                    {"kind": request.kind, "name": kind.name},
                )
            )
        if not kind.issuer:
            return actor.authority
        if kind.issuer not in parties or parties[kind.issuer] is not None:
            raise NotAllowed(
                N_("the %(issuer)s authority issues the %(name)s"),
                {"issuer": kind.issuer, "name": kind.name},
            )
        authority = request.authority_of(kind.issuer)
        assert authority is not None  # held by the actor's authority
        return authority

    def issuable(self, request: Request, actor: Actor) -> list[str]:
        """The documents ``actor``'s authority may write on ``request`` now (the certificate
        of custody aside, which is per attachment): those its own party issues, once a step
        has issued them when their contents come from that step."""
        held = self.requests.parties(request, actor)
        taken = {
            e.data.get("event")
            for e in self.requests.history(request)
            if e.kind == EventKind.TRANSITION
        }
        return [
            kind.name
            for kind in catalog.DOCUMENTS.values()
            if kind.issuer
            and kind.applies_to(request.kind)
            and kind.issuer in held
            and held[kind.issuer] is None
            and (not kind.needs_step or taken.intersection(kind.steps.get(request.kind, ())))
        ]

    # --- writing -----------------------------------------------------------------------------

    def _step(self, request: Request, kind: DocumentKind) -> Event | None:
        """The latest step on ``request`` that issued ``kind``."""
        events = kind.steps.get(request.kind, ())
        for event in reversed(self.requests.history(request)):
            if event.kind == EventKind.TRANSITION and event.data.get("event") in events:
                return event
        return None

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
            return _date(str(value), lang)
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

    def _context(
        self,
        request: Request,
        kind: DocumentKind,
        issuer: Authority,
        lang: str,
        step: Event | None,
        attachment: Attachment | None,
    ) -> dict[str, Any]:
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
            "needed_by": _date(request.needed_by, lang),
            "needed_by_reason": request.needed_by_reason or "",
            "confidential": request.confidential,
            "fields": self._fields(wf, request, lang, w),
            "undertaking": bool(request.fields.get("undertaking")),
            "translations_attached": bool(request.fields.get("translations_attached")),
            "formal_request_days": wf.figures(request.legal_basis).get("formal_request_days"),
            "arrest_date": _date(request.fields.get("arrest_date"), lang),
            "received_on": _date(request.transmitted_at, lang),
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

    def render(
        self,
        request: Request,
        actor: Actor,
        document: str,
        lang: str,
        *,
        attachment_id: int | None = None,
        step: Event | None = None,
    ) -> bytes:
        """The signed PDF of ``document`` on ``request`` in ``lang``, in memory.

        Requires ``actor``'s authority to issue it (:meth:`issuer`). A document a step
        issues is written from the latest such step (or ``step``); the certificate of
        custody needs ``attachment_id`` (and access to that evidence). The issuing
        authority's signing key is created, self-issued, on its first document if it has
        none. Raises Invalid naming ``document``, ``lang`` or ``attachment``; NotFound if no
        step has issued it yet; NotAllowed as :meth:`issuer` or the evidence service."""
        kind = catalog.document_kind(document)
        catalog.check_language(lang)
        issuer = self.issuer(request, actor, kind)
        attachment = None
        if kind.name == "custody":
            if attachment_id is None:
                raise Invalid(FieldError("attachment", N_("name the attachment to certify")))
            attachment = self.evidence.get(request, actor, attachment_id)
        if step is None and kind.steps:
            step = self._step(request, kind)
            if step is None and kind.needs_step:
                raise NotFound(
                    N_("no %(name)s has been issued on %(reference)s"),
                    {"name": kind.name, "reference": request.reference},
                )
        context = self._context(request, kind, issuer, lang, step, attachment)
        rendered = catalog.render(kind.name, lang, context, self.templates)
        now = self.clock()
        recipient = request.authority_of(kind.recipient) if kind.recipient else None
        header = Header(
            issuer=party(issuer, lang),
            recipient=party(recipient, lang) if recipient else None,
            reference=request.reference,
            their_reference=request.their_reference,
            date=_date(now, lang),
            confidential=request.confidential,
            lang=lang,
            issued_at=now,
        )
        pdf = layout(rendered, header)
        if not self.keys.exists(issuer.code):
            self.keys.create(issuer.code, issuer.name, issuer.country, replace=False)
        return sign(
            pdf,
            self.keys.signer(issuer.code),
            reason=f"{rendered.title} · {request.reference}",
            location=header.issuer.state,
        )

    @staticmethod
    def filename(request: Request, document: str, lang: str, attachment_id: int | None) -> str:
        suffix = f"-{attachment_id}" if attachment_id is not None else ""
        return f"{request.reference}-{document}{suffix}-{lang}.pdf"

    def store(
        self,
        request: Request,
        actor: Actor,
        document: str,
        lang: str,
        *,
        attachment_id: int | None = None,
        step: Event | None = None,
    ) -> Attachment:
        """Write ``document`` as :meth:`render` does and keep it as an evidence attachment
        of ``request`` uploaded by ``actor`` (encrypted, with its ``evidence_uploaded``
        custody event). Raises as :meth:`render`."""
        pdf = self.render(request, actor, document, lang, attachment_id=attachment_id, step=step)
        return self.evidence.upload(
            request,
            actor,
            self.filename(request, document, lang, attachment_id),
            io.BytesIO(pdf),
            issued=True,
        )

    @staticmethod
    def language(request: Request) -> str:
        """The request's language for its documents: its ``language`` field, else the first
        language the requested authority accepts that documents are written in, else
        English."""
        wanted = [request.fields.get("language"), *(request.requested_authority.languages or [])]
        return next((str(x) for x in wanted if x in catalog.LANGUAGES), "en")

    def on_step(self, request: Request, step: Event, actor: Actor) -> list[Attachment]:
        """Issue the documents that ``step`` (just taken by ``actor``) issues, in the
        request's :meth:`language`. Nothing is issued for a step recorded on an external
        authority's behalf: that authority sends its own letters."""
        event = str(step.data.get("event"))
        if step.on_behalf_of_id is not None:
            return []
        lang = self.language(request)
        stored = []
        held = self.requests.parties(request, actor)
        for kind in catalog.issued_by_step(request.kind, event):
            if kind.issuer not in held or held[kind.issuer] is not None:
                continue  # not the actor's own authority's letter to write
            stored.append(self.store(request, actor, kind.name, lang, step=step))
        return stored


def _shown(p: Party) -> dict[str, str]:
    """An authority for a template: its contact points one a line."""
    return {"name": p.name, "code": p.code, "state": p.state, "contacts": "\n".join(p.contacts)}


class _Blank(dict[str, str]):
    """Values for a template: a name the request does not have reads as empty text, so an
    authority's template may name any field of the workflow."""

    def __missing__(self, key: str) -> str:
        return ""
