"""A small world of authorities and users, and a request service over it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mla.authorities.models import Authority, AuthorityKind, User
from mla.requests.models import Request
from mla.requests.service import Actor, RequestService

MLA_FIELDS = {
    "conducting_authority": "Fiscalía Federal N.º 3, Buenos Aires",
    "proceeding_type": "investigation",
    "subject": "Lavado de activos provenientes del narcotráfico",
    "assistance_types": ["records"],
    "facts": "Transferencias a cuentas en México entre 2023 y 2025.",
    "assistance_sought": "Extractos de la cuenta 0123456789 del Banco Ejemplo.",
    "purpose": "Acreditar el origen de los fondos.",
    "language": "es",
}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: Any) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class World:
    arg: Authority
    mex: Authority
    mex_court: Authority
    col: Authority
    arg_clerk: User
    arg_supervisor: User
    mex_clerk: User
    mex_supervisor: User
    court_clerk: User
    col_clerk: User

    def actor(self, user: User) -> Actor:
        return Actor.for_user(user)


@pytest.fixture
def world(make_authority, make_user) -> World:
    arg = make_authority("ARG-DAJIN", country="AR", timezone="America/Argentina/Buenos_Aires")
    mex = make_authority("MEX-FGR", country="MX", timezone="America/Mexico_City")
    court = make_authority(
        "MEX-FEMDO",
        country="MX",
        timezone="America/Mexico_City",
        kind=AuthorityKind.EXECUTING,
        parent_code="MEX-FGR",
    )
    col = make_authority("COL-FGN", country="CO", timezone="America/Bogota")
    return World(
        arg=arg,
        mex=mex,
        mex_court=court,
        col=col,
        arg_clerk=make_user(arg, "clerk"),
        arg_supervisor=make_user(arg, "supervisor"),
        mex_clerk=make_user(mex, "clerk"),
        mex_supervisor=make_user(mex, "supervisor"),
        court_clerk=make_user(court, "clerk"),
        col_clerk=make_user(col, "clerk"),
    )


@pytest.fixture
def clock() -> Clock:
    # A Monday morning in Mexico City.
    return Clock(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))


@pytest.fixture
def service(session, engines, clock) -> RequestService:
    return RequestService(session, engines, clock=clock)


@pytest.fixture
def new_mla(service, world) -> Callable[..., Request]:
    def make(**kwargs: Any) -> Request:
        kwargs.setdefault("kind", "mla")
        kwargs.setdefault("requested_authority", "MEX-FGR")
        kwargs.setdefault("legal_basis", "untoc-18")
        kwargs.setdefault("fields", dict(MLA_FIELDS))
        return service.create(world.actor(world.arg_clerk), **kwargs)

    return make


@pytest.fixture
def received(service, world, new_mla) -> Request:
    """An MLA request transmitted by Argentina, now held by Mexico."""
    request = new_mla()
    service.fire(request, "submit_for_review", world.actor(world.arg_clerk))
    service.fire(request, "sign", world.actor(world.arg_supervisor))
    service.fire(request, "transmit", world.actor(world.arg_clerk))
    return request
