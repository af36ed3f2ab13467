"""The document service: writes a request's formal documents, signs them, stores them.

A document is issued by one party's authority (the letter of request by the requesting
authority, a refusal by the requested one, ...), in one of the four languages, from the
request's data and, for documents a step issues, from that step's inputs as its history
recorded them (:mod:`mla.documents.contents` reads what it says). It is signed with the
issuing authority's key (:mod:`mla.documents.signing`) and kept as an evidence attachment of
the request: encrypted, with its custody events, open to the counterpart as any evidence is.

The PDF is built and signed in memory (a letter is a few dozen kilobytes) and handed to the
evidence intake as a stream: no plaintext file is ever written.

Methods flush; the boundary commits.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from mla.audit.models import Event, EventKind
from mla.authorities.models import Authority
from mla.db import utcnow
from mla.documents import catalog
from mla.documents.catalog import DocumentKind
from mla.documents.contents import DocumentContents, long_date, party
from mla.documents.layout import Header, layout
from mla.documents.signing import SigningKeys, sign
from mla.errors import N_, FieldError, Invalid, NotAllowed, NotFound
from mla.evidence.models import Attachment
from mla.evidence.service import EvidenceService
from mla.requests.models import Request
from mla.requests.service import Actor, RequestService


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
        self.contents = DocumentContents(session, requests, templates)

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
        context = self.contents.context(request, kind, issuer, lang, step, attachment)
        rendered = catalog.render(kind.name, lang, context, self.templates)
        now = self.clock()
        recipient = request.authority_of(kind.recipient) if kind.recipient else None
        header = Header(
            issuer=party(issuer, lang),
            recipient=party(recipient, lang) if recipient else None,
            reference=request.reference,
            their_reference=request.their_reference,
            date=long_date(now, lang),
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
