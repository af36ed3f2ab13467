"""The notification service: writes the outbox, and answers the UI's bell.

Contract: every method that creates notifications adds them to the caller's session and
flushes, so they commit (or roll back) with their cause; nothing is delivered here. The
dispatcher (:mod:`mla.notify.dispatcher`) delivers after commit, in its own transaction.

The bell (:mod:`mla.notify.inbox`) and the admins' outbox (:mod:`mla.notify.admin`) are
composed into :class:`NotificationService`, so that its callers build one service.

Channels per cause:

* a request is created or changes state (:meth:`NotificationService.on_status_change`): a
  webhook to every active subscription of each authority party to the request, and, when the
  request moves to another authority, an in-app message to that authority's clerks (and its
  assignee). A confidential request's webhook (Palermo 18.20) carries only its reference and
  state; no webhook ever carries the request's facts.
* an escalation step fires (:meth:`NotificationService.escalate`): e-mail and in-app messages
  to the step's recipients in their own language, with a link to the request, and webhooks
  to the counterpart authority's subscriptions when the step names the counterpart.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from mla.audit.models import Event, EventKind
from mla.authorities.models import Authority, Role, User
from mla.config import SETTINGS
from mla.deadlines.models import Deadline
from mla.deadlines.service import DeadlineService
from mla.notify.admin import OutboxAdmin
from mla.notify.inbox import Inbox
from mla.notify.messages import language, recipient_names, render
from mla.notify.models import Channel, Notification, Status, WebhookSubscription
from mla.notify.subscriptions import SubscriptionService
from mla.requests.models import Request
from mla.workflow.engine import Engines
from mla.workflow.model import LANGUAGES, EscalationStep, Workflow, label

__all__ = ["NotificationService", "SubscriptionService"]

_ROLE_OF = {"clerks": Role.CLERK, "supervisors": Role.SUPERVISOR, "admins": Role.ADMIN}
_ROLES = [Role.CLERK, Role.SUPERVISOR, Role.ADMIN]


# Read at every step that moves a request: built once.
_USERS = (
    select(User)
    .where(
        User.authority_id == bindparam("authority_id"),
        User.role == bindparam("role"),
        User.active.is_(True),
    )
    .order_by(User.id)
)
_SUBSCRIPTIONS = (
    select(WebhookSubscription)
    .where(
        WebhookSubscription.authority_id.in_(bindparam("ids", expanding=True)),
        WebhookSubscription.active.is_(True),
    )
    .order_by(WebhookSubscription.id)
)


def request_link(base_url: str, reference: str) -> str:
    return f"{base_url.rstrip('/')}/requests/{reference}"


class NotificationService:
    """Notifications for one unit of work: the outbox writers here; the bell
    (:class:`~mla.notify.inbox.Inbox`) and the admins' view of the outbox
    (:class:`~mla.notify.admin.OutboxAdmin`) composed over the same session, whose methods
    state the contracts. ``base_url`` (``MLA_BASE_URL``, for links in e-mail) is given by
    whoever builds the service (:func:`mla.app_services.notification_service` for the app);
    its default is the setting's."""

    def __init__(
        self, session: Session, engines: Engines, *, base_url: str = SETTINGS["MLA_BASE_URL"][0]
    ):
        self.session = session
        self.engines = engines
        self.base_url = base_url.rstrip("/")
        self.clocks = DeadlineService(session)  # caches each authority's calendar across steps
        inbox, admin = Inbox(session), OutboxAdmin(session)
        self.unread = inbox.unread
        self.unread_count = inbox.unread_count
        self.mark_read = inbox.mark_read
        self.open = inbox.open
        self.listing = admin.listing
        self.dead = admin.dead
        self.resend = admin.resend

    # --- recipients -----------------------------------------------------------------------

    def _users(self, authority_id: int, role: Role) -> list[User]:
        """Active users of exactly ``role``; if the authority has none, of the next role up,
        and failing that the next one down: a step always reaches somebody who can act (a
        step for supervisors reaches the head when there is no supervisor)."""
        at = _ROLES.index(role)
        for candidate in _ROLES[at:] + _ROLES[:at][::-1]:
            users = list(
                self.session.scalars(_USERS, {"authority_id": authority_id, "role": candidate})
            )
            if users:
                return users
        return []

    def _subscriptions(self, authority_ids: Iterable[int], event: str) -> list[WebhookSubscription]:
        ids = sorted(set(authority_ids))
        if not ids:
            return []
        rows = self.session.scalars(_SUBSCRIPTIONS, {"ids": ids})
        return [s for s in rows if s.wants(event)]

    @staticmethod
    def counterpart(request: Request, deadline: Deadline) -> Authority:
        """The other central authority: the requested one for the requesting state's
        deadlines, the requesting one for everybody else's (requested and executing)."""
        if deadline.authority_id == request.requesting_authority_id:
            return request.requested_authority
        return request.requesting_authority

    # --- payloads -------------------------------------------------------------------------

    def _workflow(self, request: Request) -> Workflow:
        return self.engines.get(request.kind, request.workflow_version).workflow

    def _request_payload(self, request: Request, event: str, at: datetime) -> dict[str, Any]:
        if request.confidential:
            # 18.20: a confidential request's existence travels as little as possible.
            return {"reference": request.reference, "state": request.state}
        labels = self._workflow(request).states[request.state].labels
        return {
            "event": event,
            "reference": request.reference,
            "kind": request.kind,
            "state": request.state,
            "state_label": dict(labels),
            "holder": request.holder_authority.code,
            "at": at.isoformat(),
        }

    def _webhook(
        self,
        subscription: WebhookSubscription,
        event: str,
        body: dict[str, Any],
        at: datetime,
        **cause: Any,
    ) -> Notification:
        return Notification(
            channel=Channel.WEBHOOK,
            event=event,
            authority_id=subscription.authority_id,
            subscription_id=subscription.id,
            payload=body,
            status=Status.PENDING,
            attempts=0,
            next_attempt_at=at,
            created_at=at,
            **cause,
        )

    @staticmethod
    def _in_app(
        user: User,
        event: str,
        texts: dict[str, str],
        link: str,
        at: datetime,
        **cause: Any,
    ) -> Notification:
        # Committed with its cause is delivered: the bell reads the table. Written in every
        # language, so that the bell shows it in the one its reader uses now.
        lang = language(user.language)
        text = texts[lang]
        return Notification(
            channel=Channel.IN_APP,
            event=event,
            authority_id=user.authority_id,
            user_id=user.id,
            language=lang,
            subject=text,
            payload={"text": text, "texts": texts, "link": link},
            status=Status.SENT,
            attempts=0,
            created_at=at,
            sent_at=at,
            **cause,
        )

    # --- causes ---------------------------------------------------------------------------

    def on_status_change(self, request: Request, event: Event) -> list[Notification]:
        """Queue what a creation or transition (``event``, just appended to the history) tells
        the parties. Other history events queue nothing. Flushes; returns the new rows."""
        if event.kind not in (EventKind.CREATED, EventKind.TRANSITION):
            return []
        rows = self.queue_status_change(
            request,
            EventKind(event.kind),
            at=event.at,
            source=(event.data or {}).get("from"),
            actor_user_id=event.actor_user_id,
        )
        self.session.flush()
        return rows

    def queue_status_change(
        self,
        request: Request,
        kind: EventKind,
        *,
        at: datetime,
        source: str | None,
        actor_user_id: int | None,
    ) -> list[Notification]:
        """What :meth:`on_status_change` queues, for a history event of ``kind`` about to be
        appended (``source``: the state a transition left; ``actor_user_id``: who takes it,
        told nothing), with ``request`` as the event leaves it. Adds the rows to the session
        without flushing, for a caller whose next flush writes them with their cause (the
        step, :meth:`mla.requests.events.RequestEvents.fire`); reads without flushing what
        is pending. Returns the new rows."""
        with self.session.no_autoflush:
            rows = self._status_rows(request, kind, at, source, actor_user_id)
        self.session.add_all(rows)
        return rows

    def _status_rows(
        self,
        request: Request,
        event_kind: EventKind,
        at: datetime,
        source_state: str | None,
        actor_user_id: int | None,
    ) -> list[Notification]:
        if event_kind == EventKind.CREATED:
            kind = "request.created"
        elif event_kind == EventKind.TRANSITION:
            kind = "request.state_changed"
        else:
            return []
        cause = {"request_id": request.id}
        # Until transmitted, a request is the requesting authority's own business: no
        # webhook may tell the other side it exists.
        parties: list[int | None] = [request.requesting_authority_id]
        if request.transmitted_at is not None:
            parties += [request.requested_authority_id, request.executing_authority_id]
        body = self._request_payload(request, kind, at)
        rows: list[Notification] = [
            self._webhook(s, kind, body, at, **cause)
            for s in self._subscriptions([p for p in parties if p is not None], kind)
        ]
        wf = self._workflow(request)
        source = str(source_state)
        moved = (
            kind == "request.state_changed"
            and source in wf.states
            and wf.states[source].owner != wf.states[request.state].owner
        )
        if moved:
            holder = request.holder_authority
            users = {u.id: u for u in self._users(holder.id, Role.CLERK)}
            assignee = request.assignee_for(holder.id)  # the holding authority's own
            if assignee is not None:
                users.setdefault(assignee.id, assignee)
            link = f"/requests/{request.reference}"
            texts = {
                lang: render(
                    "state_changed",
                    lang,
                    reference=request.reference,
                    holder=holder.code,
                    state=label(wf.states[request.state].labels, lang),
                )[0]
                for lang in LANGUAGES
            }
            for user in users.values():
                if user.id == actor_user_id:
                    continue
                rows.append(self._in_app(user, kind, texts, link, at, **cause))
        return rows

    def escalate(
        self, deadline: Deadline, step: EscalationStep, now: datetime
    ) -> list[Notification]:
        """Queue the messages of escalation ``step`` of ``deadline`` at ``now``.

        Each person among the step's recipients gets one e-mail and one in-app message, in
        their language, however many of the step's roles they hold. ``assignee`` is the
        deadline's authority's own assignee of the request, else its clerks;
        ``counterpart`` is the other central authority's clerks and webhook subscriptions.
        Flushes; returns the new rows. Does not record that the step fired (the sweeper does).
        """
        request = self.session.get_one(Request, deadline.request_id)
        wf = self._workflow(request)
        _, definition = wf.deadline(deadline.name)
        owner = self.session.get_one(Authority, deadline.authority_id)
        cal = self.clocks.calendar(owner)
        due = cal.local_date(deadline.due_at).isoformat()
        overdue = now >= deadline.due_at
        cause = {"request_id": request.id, "deadline_id": deadline.id, "level": step.level}
        link = request_link(self.base_url, request.reference)

        people: dict[int, tuple[User, list[str]]] = {}

        def reach(users: Sequence[User], role: str) -> None:
            for user in users:
                people.setdefault(user.id, (user, []))[1].append(role)

        other = self.counterpart(request, deadline)
        for role in step.to:
            if role == "assignee":
                assignee = request.assignee_for(deadline.authority_id)
                if assignee is not None and assignee.active:
                    reach([assignee], role)
                else:
                    reach(self._users(deadline.authority_id, Role.CLERK), role)
            elif role == "counterpart":
                if request.transmitted_at is not None:  # it cannot see the request before
                    reach(self._users(other.id, Role.CLERK), role)
            else:
                reach(self._users(deadline.authority_id, _ROLE_OF[role]), role)

        rendered: dict[tuple[str, bool, tuple[str, ...]], tuple[str, str]] = {}

        def text(lang: str, counterpart: bool, roles: tuple[str, ...]) -> tuple[str, str]:
            key = (lang, counterpart, roles)
            if key not in rendered:
                rendered[key] = render(
                    "escalation",
                    lang,
                    reference=request.reference,
                    deadline=label(definition.labels, lang),
                    overdue=overdue,
                    due=due,
                    timezone=cal.timezone,
                    counterpart=counterpart,
                    authority=owner.code,
                    state=label(wf.states[request.state].labels, lang),
                    holder=request.holder_authority.code,
                    link=link,
                    level=step.level,
                    roles=recipient_names(list(roles), lang),
                )
            return rendered[key]

        rows: list[Notification] = []
        for user, roles in people.values():
            lang = language(user.language)
            theirs = (user.authority_id != deadline.authority_id, tuple(roles))
            subject, body = text(lang, *theirs)
            rows.append(
                Notification(
                    channel=Channel.EMAIL,
                    event="deadline.escalated",
                    authority_id=user.authority_id,
                    user_id=user.id,
                    address=user.email,
                    language=lang,
                    subject=subject,
                    payload={"text": body},
                    status=Status.PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    **cause,
                )
            )
            rows.append(
                self._in_app(
                    user,
                    "deadline.escalated",
                    {other_lang: text(other_lang, *theirs)[0] for other_lang in LANGUAGES},
                    f"/requests/{request.reference}",
                    now,
                    **cause,
                )
            )
        if "counterpart" in step.to and request.transmitted_at is not None:
            body_json = self._request_payload(request, "deadline.escalated", now)
            if not request.confidential:
                body_json["deadline"] = {
                    "name": deadline.name,
                    "authority": owner.code,
                    "due_at": deadline.due_at.isoformat(),
                    "level": step.level,
                    "overdue": overdue,
                }
            for subscription in self._subscriptions([other.id], "deadline.escalated"):
                rows.append(
                    self._webhook(subscription, "deadline.escalated", body_json, now, **cause)
                )
        self.session.add_all(rows)
        self.session.flush()
        return rows
