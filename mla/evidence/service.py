"""The evidence service: the only code that stores, lists, releases and checks evidence.

Every method that takes an :class:`~mla.requests.service.Actor` sees only the evidence of
requests the actor's authority is party to (NotFound otherwise, existence never leaks). On a
confidential request (Palermo 18.20) only each party's assignee and supervisors may list,
upload or download (:mod:`mla.evidence.access`); API tokens act for no person and are refused
(NotAllowed), so confidential evidence is always released to a named user.

Methods flush; the boundary commits. Blobs are written (temp name, fsync, rename) before the
row is flushed, and a session listener deletes every blob written in a transaction that does
not commit, so an upload that fails at any point, including the commit itself, leaves neither
row nor blob, without callers doing anything.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mla.audit import chain
from mla.audit.models import Event, EventKind
from mla.db import begin_write, utcnow
from mla.errors import (
    N_,
    FieldError,
    IntegrityError,
    Invalid,
    Message,
    NotAllowed,
    NotFound,
    TooLarge,
)
from mla.evidence.access import cleared_for_confidential
from mla.evidence.blobs import track_blob
from mla.evidence.crypto import SEGMENT_SIZE, Encryptor, read_exact
from mla.evidence.intake import SNIFF_BYTES, sanitize_filename, sniff_media_type
from mla.evidence.leftovers import LeftoverSweep
from mla.evidence.models import Attachment
from mla.evidence.release import Download, open_plaintext
from mla.evidence.rotation import KeyRotation
from mla.evidence.storage import EvidenceStore, new_storage_key
from mla.keyring import Keyring
from mla.requests.models import Request
from mla.requests.service import Actor, RequestService

READ_SIZE = SEGMENT_SIZE  # one segment per read: memory stays at about two segments


def too_large(max_bytes: int, field: str = "file") -> TooLarge:
    """The error for a file over the ``max_bytes`` upload limit, naming ``field``."""
    mib = f"{max_bytes / (1 << 20):g}"
    message = Message(N_("the file is larger than the %(mib)s MiB limit"), {"mib": mib})
    return TooLarge(FieldError(field, message), limit=max_bytes)


class EvidenceService(KeyRotation, LeftoverSweep):
    def __init__(
        self,
        session: Session,
        requests: RequestService,
        store: EvidenceStore,
        keyring: Keyring,
        *,
        max_bytes: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.session = session
        self.requests = requests
        self.store = store
        self.keyring = keyring
        self.max_bytes = max_bytes
        self.clock = clock

    # --- access -----------------------------------------------------------------------------

    def check_access(self, request: Request, actor: Actor) -> None:
        """Raise NotFound if the actor's authority is no party to ``request``; NotAllowed if
        the request is confidential and the actor is not cleared for it (see
        :func:`mla.evidence.access.cleared_for_confidential`: each party's assignee and
        supervisors; never an API token)."""
        if not self.requests.parties(request, actor):
            raise NotFound(N_("no request %(reference)s"), {"reference": request.reference})
        if request.confidential and not cleared_for_confidential(request, actor):
            raise NotAllowed(
                N_(
                    "%(reference)s is confidential: its evidence is open only to each "
                    "party's assigned user and supervisors"
                ),
                {"reference": request.reference},
            )

    # --- upload -----------------------------------------------------------------------------

    def upload(
        self,
        request: Request,
        actor: Actor,
        filename: str,
        stream: IO[bytes],
        *,
        issued: bool = False,
    ) -> Attachment:
        """Encrypt ``stream`` into a new attachment of ``request`` uploaded by ``actor``.

        Streams: memory stays at about two segments whatever the size. Requires access (see
        :meth:`check_access`); ``issued``: a document the system issues on a step the actor
        has just taken (:mod:`mla.documents`), for which being a party suffices, since the
        step itself was the actor's to take. Guarantees, once this returns: the blob is
        durable in the store, the row and an ``evidence_uploaded`` custody event (attachment
        id, file name, size, SHA-256) are flushed. If the transaction then rolls back or its
        commit fails, the blob is deleted. Raises TooLarge on field ``file`` for a file larger
        than the limit (checked while streaming: the read that crosses it is the last, nothing
        of the excess is written), Invalid on ``file`` for an empty file or an unusable name;
        whatever ``stream.read`` raises propagates, leaving nothing behind.
        """
        if not issued:
            self.check_access(request, actor)
        elif not self.requests.parties(request, actor):
            raise NotFound(N_("no request %(reference)s"), {"reference": request.reference})
        name = sanitize_filename(filename)
        first = read_exact(stream, READ_SIZE)
        if not first:
            raise Invalid(FieldError("file", N_("the file is empty")))
        media_type = sniff_media_type(first[:SNIFF_BYTES], name)
        key = new_storage_key()
        enc = Encryptor.create(self.keyring.wrap, key.encode("ascii"))
        with self.store.writer(key) as blob:
            blob.write(enc.header())
            chunk = first
            while chunk:
                if enc.size + len(chunk) > self.max_bytes:
                    raise too_large(self.max_bytes)
                blob.write(enc.update(chunk))
                chunk = stream.read(READ_SIZE)
            blob.write(enc.finalize())
        try:
            # Waiting for the write lock only now keeps a long upload from blocking other
            # writers; begin_write may restart a read-only transaction, so the blob is hung
            # on the transaction only after it.
            begin_write(self.session)
            track_blob(self.session, self.store, key)
        except BaseException:
            self.store.delete(key)
            raise
        # Re-wrap under the newest key: a rotation that ran while this file streamed must
        # not leave a row under a key it has just retired. The blob's header keeps the
        # original wrapping, as after any rotation.
        key_id, wrapped = self.keyring.rewrap(enc.key_id, enc.wrapped_key)
        now = self.clock()
        attachment = Attachment(
            request_id=request.id,
            filename=name,
            media_type=media_type,
            size=enc.size,
            sha256=enc.sha256,
            key_id=key_id,
            wrapped_key=wrapped,
            storage_key=key,
            uploaded_by_id=actor.user_id,
            uploaded_by_authority_id=actor.authority.id,
            uploaded_by_token_id=actor.token_id,
            created_at=now,
        )
        self.session.add(attachment)
        self.session.flush()
        self._record(
            request,
            EventKind.EVIDENCE_UPLOADED,
            actor,
            attachment,
            now,
            filename=name,
            media_type=media_type,
            size=enc.size,
        )
        return attachment

    # --- read -------------------------------------------------------------------------------

    def list(self, request: Request, actor: Actor) -> list[Attachment]:
        """The request's attachments, oldest first. Raises as :meth:`check_access`."""
        self.check_access(request, actor)
        return list(
            self.session.scalars(
                select(Attachment)
                .where(Attachment.request_id == request.id)
                .order_by(Attachment.created_at, Attachment.id)
            )
        )

    def get(self, request: Request, actor: Actor, attachment_id: int) -> Attachment:
        """Attachment ``attachment_id`` of ``request``; NotFound if it belongs to another
        request or does not exist. Raises as :meth:`check_access`."""
        self.check_access(request, actor)
        attachment = self.session.scalar(
            select(Attachment).where(
                Attachment.id == attachment_id, Attachment.request_id == request.id
            )
        )
        if attachment is None:
            raise NotFound(
                N_("no attachment %(attachment_id)s on %(reference)s"),
                {"attachment_id": attachment_id, "reference": request.reference},
            )
        return attachment

    def download(self, request: Request, actor: Actor, attachment_id: int) -> Download:
        """Release attachment ``attachment_id`` to ``actor`` (:mod:`mla.evidence.release`).

        Raises as :meth:`get`; IntegrityError now if the blob is missing, its header is
        damaged or its key does not unwrap. Records the ``evidence_downloaded`` custody event
        (actor, SHA-256) before returning: the boundary commits it before streaming. The
        returned chunks raise IntegrityError midway on a damaged blob or digest mismatch.
        """
        attachment = self.get(request, actor, attachment_id)
        plaintext = open_plaintext(self.store, self.keyring, attachment)
        try:
            self._record(
                request,
                EventKind.EVIDENCE_DOWNLOADED,
                actor,
                attachment,
                self.clock(),
                filename=attachment.filename,
            )
        except BaseException:
            plaintext.close()
            raise
        return Download(attachment, plaintext)

    # --- verification ------------------------------------------------------------------------

    def _check(self, attachment: Attachment, actor: Actor | None) -> IntegrityError | None:
        """Decrypt all of ``attachment`` and check that its request's history records its
        upload; record the outcome in that history."""
        error: IntegrityError | None = None
        try:
            self._check_upload_recorded(attachment)
            opened = open_plaintext(self.store, self.keyring, attachment)
            with contextlib.closing(opened) as plaintext:
                for _ in plaintext:
                    pass
        except IntegrityError as exc:
            error = IntegrityError(
                N_("attachment %(id)s (%(filename)s): %(exc)s"),
                {"id": attachment.id, "filename": attachment.filename, "exc": exc},
            )
        outcome: dict[str, Any] = {"result": "ok" if error is None else "failed"}
        if error is not None:
            outcome["error"] = str(error)
        # Decrypting a large file must not hold the write lock (a no-op if the caller took it).
        begin_write(self.session)
        self._record(
            attachment.request,
            EventKind.EVIDENCE_VERIFIED,
            actor,
            attachment,
            self.clock(),
            **outcome,
        )
        return error

    def _check_upload_recorded(self, attachment: Attachment) -> None:
        # The row says which request, and so which authorities, the file belongs to; the
        # upload event in that request's (hash-chained) history says so too. A row pointed at
        # another request in the database, which would hand the file to that request's
        # parties, has no upload event there.
        uploaded = self.session.scalar(
            select(Event.data["sha256"].as_string()).where(
                Event.request_id == attachment.request_id,
                Event.kind == EventKind.EVIDENCE_UPLOADED,
                Event.data["attachment"].as_integer() == attachment.id,
            )
        )
        if uploaded != attachment.sha256:
            raise IntegrityError(
                N_(
                    "the history of its request does not record its upload (the row was moved to "
                    "another request, or altered)"
                )
            )

    def verify(self, attachment: Attachment, actor: Actor | None = None) -> None:
        """Decrypt ``attachment`` fully and check every tag and its SHA-256, and that its
        request's history records its upload (a row moved to another request does not pass);
        record an ``evidence_verified`` event either way. Raises IntegrityError (after
        recording the failure) if anything does not hold."""
        error = self._check(attachment, actor)
        if error is not None:
            raise error

    def verify_all(
        self, ids: Sequence[int] | None = None
    ) -> Iterator[tuple[Attachment, IntegrityError | None]]:
        """Verify every attachment (or those in ``ids``, NotFound naming the first unknown
        one), yielding each with its error or None. Each check is flushed before it is
        yielded, so the caller may commit between items to keep transactions short."""
        query = select(Attachment.id).order_by(Attachment.id)
        if ids is not None:
            query = query.where(Attachment.id.in_(ids))
        found = list(self.session.scalars(query))
        if ids is not None:
            known = set(found)
            missing = [i for i in ids if i not in known]
            if missing:
                raise NotFound(N_("no attachment %(missing)s"), {"missing": missing[0]})
        for attachment_id in found:
            attachment = self.session.get_one(Attachment, attachment_id)
            yield attachment, self._check(attachment, None)

    # --- custody -----------------------------------------------------------------------------

    def _record(
        self,
        request: Request,
        kind: EventKind,
        actor: Actor | None,
        attachment: Attachment,
        at: datetime,
        **data: Any,
    ) -> None:
        body: dict[str, Any] = {"attachment": attachment.id, "sha256": attachment.sha256, **data}
        if actor is not None and actor.token_id is not None:
            body["token"] = actor.token_id
        chain.append(
            self.session,
            request,
            kind,
            actor_user_id=actor.user_id if actor else None,
            actor_authority_id=actor.authority.id if actor else None,
            data=body,
            at=at,
        )
