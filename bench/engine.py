"""The engine's own cost per event, beside a bare ``transitions`` trigger.

    python bench/engine.py

Prints, in one run:
- the floor: a bare ``transitions`` trigger on a two-state machine with the model added;
- the engine: ``Engine.fire`` on an in-memory request (party, role, inputs and guards checked,
  shared Machine, no add_model), and its ratio to the floor (target: at most 3x);
Events per second through the request service, beside a bare commit: ``bench/events.py``.
The loop is formal review ↔ information requested (request_information, provide_information).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from transitions import Machine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from mla.config import PROJECT_ROOT
from mla.workflow import Engines, load_all
from tests.factories import MLA_FIELDS

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
    fields: dict[str, Any] = field(default_factory=lambda: dict(MLA_FIELDS))


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()

    engines = Engines(load_all(PROJECT_ROOT / "workflows"))
    floor = best_per_call(bare_trigger, 20_000)
    ours = best_per_call(engine_fire(engines), 20_000)
    print(f"bare transitions trigger : {floor * 1e6:8.2f} µs/event (floor)")
    print(f"Engine.fire              : {ours * 1e6:8.2f} µs/event  ratio {ours / floor:.2f}x"
          f"  (target <= 3x)")  # fmt: skip


if __name__ == "__main__":
    main()
