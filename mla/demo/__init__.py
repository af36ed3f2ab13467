"""Demo data: real central authorities of OAS member states, their users, and requests.

What is seeded lives in ``data.yaml`` beside this file; this module reads it and plays each
request through the request service. Seeding is idempotent: what exists (by code, username or
their reference) is left alone.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from mla.assets import service as assets
from mla.authorities import service as authorities
from mla.authorities.models import Authority, AuthorityKind, Role, User
from mla.deadlines.service import DeadlineService
from mla.requests.models import Request
from mla.requests.scope import RECORDED_BY, Actor
from mla.requests.service import RequestService
from mla.workflow import Engines

# Demo data only: every demo user shares this password, printed with the logins.
DEMO_PASSWORD = "demo-mla-2026"  # noqa: S105


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CentralAuthority(_Data):
    code: str
    country: str
    name: str
    languages: list[str]
    timezone: str
    external: bool = False


class ExecutingAuthority(_Data):
    code: str
    parent: str
    name: str


class Step(_Data):
    event: str
    days_later: int = 0
    inputs: dict[str, Any] = {}
    dates: dict[str, int] = {}

    def values(self, today: date) -> dict[str, Any]:
        """The event's inputs, date inputs resolved against the step's day."""
        dates = {k: (today + timedelta(days=v)).isoformat() for k, v in self.dates.items()}
        return {**self.inputs, **dates}


class DemoRequest(_Data):
    their_reference: str
    kind: str
    requesting: str
    requested: str
    legal_basis: str
    urgency: Literal["normal", "urgent"] = "normal"
    # How the request of an external state (not on mla) arrived; it is recorded as received.
    channel: str | None = None
    started_days_ago: int
    fields: dict[str, Any]
    assets: list[dict[str, Any]] = []
    steps: list[Step]


class DemoData(_Data):
    authorities: list[CentralAuthority]
    executing_authorities: list[ExecutingAuthority]
    defaults: dict[str, dict[str, Any]]
    requests: list[DemoRequest]


@cache
def data() -> DemoData:
    with (Path(__file__).parent / "data.yaml").open(encoding="utf-8") as f:
        return DemoData.model_validate(yaml.safe_load(f))


def seed(
    session: Session, engines: Engines, now: datetime | None = None
) -> list[tuple[str, str, str]]:
    """Create what is missing of the demo data; return (username, password, authority)."""
    from mla.db import utcnow

    _ensure_authorities(session)
    logins = _ensure_users(session)
    session.flush()
    _ensure_requests(session, engines, now or utcnow())
    return logins


def _ensure_authorities(session: Session) -> None:
    existing = set(session.scalars(select(Authority.code)))
    for a in data().authorities:
        if a.code in existing:
            continue
        registry = "Mesa de entradas" if "es" in a.languages else "Registry"
        authorities.add_authority(
            session,
            a.code,
            country=a.country,
            name=a.name,
            languages=a.languages,
            timezone=a.timezone,
            external=a.external,
            contact_points=[{"name": registry, "email": f"mla@{a.code.lower()}.example.org"}],
        )
    for e in data().executing_authorities:
        if e.code in existing:
            continue
        central = authorities.get_authority(session, e.parent)
        authorities.add_authority(
            session,
            e.code,
            country=central.country,
            name=e.name,
            kind=AuthorityKind.EXECUTING,
            parent_code=e.parent,
            languages=central.languages,
            timezone=central.timezone,
        )


def _ensure_users(session: Session) -> list[tuple[str, str, str]]:
    """Clerk, supervisor and admin of every central authority on mla, a clerk of every
    executing authority, each in the authority's first language that the UI speaks."""
    wanted: list[tuple[str, str, str, list[str]]] = []
    for a in data().authorities:
        if not a.external:
            prefix = a.code.split("-")[0].lower()
            for role in ("clerk", "supervisor", "admin"):
                wanted.append((f"{prefix}.{role}", a.code, role, a.languages))
    for e in data().executing_authorities:
        parent = next(a for a in data().authorities if a.code == e.parent)
        wanted.append((f"{e.code.lower()}.clerk", e.code, "clerk", parent.languages))
    existing = set(session.scalars(select(User.username)))
    logins = []
    for username, code, role, languages in wanted:
        if username not in existing:
            authorities.add_user(
                session,
                username,
                authority_code=code,
                role=role,
                email=f"{username}@{code.lower()}.example.org",
                password=DEMO_PASSWORD,
                language=next((x for x in languages if x in authorities.LANGUAGES), "en"),
            )
        logins.append((username, DEMO_PASSWORD, code))
    return logins


class _Clock:
    """The demo's clock: each request's steps are played at their own past times."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def _ensure_requests(session: Session, engines: Engines, now: datetime) -> None:
    existing = set(session.scalars(select(Request.their_reference)))
    clock = _Clock(now)
    service = RequestService(session, engines, clock=clock)
    for r in data().requests:
        if r.their_reference in existing:
            continue
        clock.at = now - timedelta(days=r.started_days_ago)
        # An external requesting authority's request is recorded as received by the requested
        # one, on the day it arrived.
        external = authorities.get_authority(session, r.requesting).external
        requested = authorities.get_authority(session, r.requested)
        request = service.create(
            _user_of(requested if external else authorities.get_authority(session, r.requesting)),
            kind=r.kind,
            requested_authority=r.requested,
            requesting_authority=r.requesting,
            legal_basis=r.legal_basis,
            fields={**data().defaults.get(r.kind, {}), **r.fields},
            their_reference=r.their_reference,
            urgency=r.urgency,
            # The day it arrived on the requested side's calendar, as its clerk records it.
            received_on=DeadlineService.local_today(requested, clock.at) if external else None,
            channel=r.channel if external else None,
        )
        for item in r.assets:
            assets.add_item(
                service, _actor_for(request, "requesting", Role.CLERK), request.reference, item
            )
        engine = service.engine(request)
        for step in r.steps:
            clock.at += timedelta(days=step.days_later, hours=2)
            t = engine.transition(request.state, step.event)
            assert t is not None, f"demo: {step.event} is not open from {request.state}"
            actor = _actor_for(request, t.by, Role(t.min_role or "clerk"))
            today = DeadlineService.local_today(actor.authority, clock.at)
            service.fire(request, step.event, actor, step.values(today))


def _actor_for(request: Request, party: str, role: Role) -> Actor:
    authority = request.authority_of(party)
    assert authority is not None, f"the demo assigns the {party} party before acting for it"
    if authority.external:
        # Not on mla: its counterpart central authority records the step for it.
        authority = request.authority_of(RECORDED_BY[party][0])
        assert authority is not None
    return _user_of(authority, role)


def _user_of(authority: Authority, role: Role = Role.CLERK) -> Actor:
    """The authority's least senior user holding at least ``role``."""
    order = [Role.CLERK, Role.SUPERVISOR, Role.ADMIN]
    users = sorted(
        (u for u in authority.users if u.role.includes(role)), key=lambda u: order.index(u.role)
    )
    return Actor.for_user(users[0])
