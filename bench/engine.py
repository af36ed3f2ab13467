"""Events per second through the request service, and the engine's own cost per event.

    python bench/engine.py [--events 400] [--postgres postgresql://postgres@127.0.0.1/test]

Prints, in one run:
- the floor: a bare ``transitions`` trigger on a two-state machine with the model added;
- the engine: ``Engine.fire`` on an in-memory request (party, role, inputs and guards checked,
  shared Machine, no add_model), and its ratio to the floor (target: at most 3x);
- the request service: events per second with one commit per event, on SQLite (a file) and,
  with ``--postgres`` or MLA_TEST_POSTGRES_URL, on PostgreSQL, and the engine's share of it.
The loop is formal review ↔ information requested (request_information, provide_information).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import sessionmaker
from transitions import Machine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from mla import migrate
from mla.authorities import service as authorities
from mla.config import PROJECT_ROOT, normalize_database_url
from mla.db import make_engine
from mla.requests.service import Actor, RequestService
from mla.workflow import Engines, load_all

FIELDS = {
    "conducting_authority": "Fiscalía Federal N.º 3",
    "proceeding_type": "investigation",
    "subject": "Lavado de activos",
    "assistance_types": ["records"],
    "facts": "Transferencias entre 2023 y 2025.",
    "assistance_sought": "Extractos bancarios.",
    "purpose": "Acreditar el origen de los fondos.",
    "language": "es",
}
LOOP = [
    ("request_information", "requested", {"questions": "¿Número de cuenta?"}),
    ("provide_information", "requesting", {"answer": "0123456789"}),
]


def best_per_call(func: Any, n: int, repeat: int = 5) -> float:
    """Seconds per call, best of ``repeat`` runs of ``n`` calls (the least disturbed run)."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        func(n)
        runs.append((time.perf_counter() - start) / n)
    return min(runs)


def bare_trigger(n: int) -> None:
    class Model:
        pass

    model = Model()
    Machine(
        model=model,
        states=["formal_review", "information_requested"],
        transitions=[
            ["request_information", "formal_review", "information_requested"],
            ["provide_information", "information_requested", "formal_review"],
        ],
        initial="formal_review",
        auto_transitions=False,
    )
    for i in range(n):
        model.trigger(LOOP[i % 2][0])


@dataclass
class Plain:
    state: str = "formal_review"
    kind: str = "mla"
    legal_basis: str = "untoc-18"
    executing_authority_code: str | None = None
    fields: dict[str, Any] = field(default_factory=lambda: dict(FIELDS))


def engine_fire(engines: Engines) -> Any:
    engine = engines.latest("mla")
    now = datetime.now(UTC)

    def run(n: int) -> None:
        model = Plain()
        for i in range(n):
            event, party, inputs = LOOP[i % 2]
            engine.fire(
                model, event, parties=frozenset([party]), role="clerk", inputs=inputs, now=now
            )

    return run


def service_rate(url: str, engines: Engines, n: int) -> float:
    """Events per second through RequestService.fire, one commit per event."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session:
        for code, country in (("BEN-ARG", "AR"), ("BEN-MEX", "MX")):
            if session.scalar(text("SELECT 1 FROM authority WHERE code = :c"), {"c": code}) is None:
                authorities.add_authority(
                    session, code, country=country, name=code, languages=["es"]
                )
                authorities.add_user(
                    session, f"{code.lower()}.sup", authority_code=code, role="supervisor",
                    email=f"{code.lower()}@example.org", password="bench-password-1",
                )  # fmt: skip
        session.commit()
        actors = {
            "requesting": Actor.for_user(authorities.get_user(session, "ben-arg.sup")),
            "requested": Actor.for_user(authorities.get_user(session, "ben-mex.sup")),
        }
        service = RequestService(session, engines)
        request = service.create(
            actors["requesting"], kind="mla", requested_authority="BEN-MEX",
            legal_basis="untoc-18", fields=dict(FIELDS),
        )  # fmt: skip
        for event, party in [
            ("submit_for_review", "requesting"), ("sign", "requesting"),
            ("transmit", "requesting"), ("acknowledge", "requested"),
        ]:  # fmt: skip
            service.fire(request, event, actors[party])
        session.commit()
        start = time.perf_counter()
        for i in range(n):
            event, party, inputs = LOOP[i % 2]
            service.fire(request, event, actors[party], inputs)
            session.commit()
        elapsed = time.perf_counter() - start
    engine.dispose()
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--postgres", default=os.environ.get("MLA_TEST_POSTGRES_URL"))
    args = parser.parse_args()

    engines = Engines(load_all(PROJECT_ROOT / "workflows"))
    floor = best_per_call(bare_trigger, 20_000)
    ours = best_per_call(engine_fire(engines), 20_000)
    print(f"bare transitions trigger : {floor * 1e6:8.2f} µs/event (floor)")
    print(f"Engine.fire              : {ours * 1e6:8.2f} µs/event  ratio {ours / floor:.2f}x"
          f"  (target <= 3x)")  # fmt: skip

    targets = []
    with tempfile.TemporaryDirectory() as tmp:
        targets.append(("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}"))
        if args.postgres:
            targets.append(("PostgreSQL", normalize_database_url(args.postgres)))
        for name, url in targets:
            rates = [service_rate(url, engines, args.events) for _ in range(3)]
            rate = statistics.median(rates)
            share = ours * rate
            print(f"request service, {name:10s}: {rate:8.0f} events/s (one commit each); "
                  f"engine's share of each event {share:.1%}")  # fmt: skip


if __name__ == "__main__":
    main()
