"""Backtest of the completion estimate on a generated history with known durations.

    python bench/estimates.py [--history 3000] [--trials 500] [--seed 16] [--postgres URL]

Each request's stages take known random times: acknowledgement ~ exponential (mean 3 days),
decision ~ log-normal (median 20 days), execution ~ gamma (shape 2, mean 60 days). A history
of requests arriving every four hours up to now (each with its transition into
``in_execution`` once it got there; those not done by now still open, as in a live system)
is bulk-inserted; then,
for open requests in two states, the estimate is taken from the service and the request's
true completion is drawn from the same distributions:

- ``received``: just received, never moved: remaining = all three stages;
- ``in_execution``: entered execution some days ago: remaining = its execution time.

A calibrated estimate puts about half of the true completions before the P50 date and about
nine in ten before the P90 date; it prints both shares per state. Prints figures, never
asserts.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.orm import Session

from mla import migrate
from mla.audit.models import Event, EventKind
from mla.authorities import service as authorities
from mla.db import make_engine
from mla.requests.models import Request, Urgency
from mla.statistics import estimates


def stages(rng: random.Random) -> tuple[float, float, float]:
    """Days of acknowledgement, decision and execution for one request."""
    return (rng.expovariate(1 / 3), rng.lognormvariate(3.0, 0.5), rng.gammavariate(2, 30))


def request_row(i: int, a: int, b: int, state: str, at: datetime, closed: datetime | None):
    return dict(id=i, reference=f"E-{i}", kind="mla", workflow_version=2, state=state,
                holder_authority_id=b, requesting_authority_id=a, requested_authority_id=b,
                legal_basis="untoc-18", urgency=Urgency.NORMAL, fields={},
                offence_categories=[], confidential=False, created_at=at, updated_at=at,
                transmitted_at=at, closed_at=closed, outcome="executed" if closed else None,
                version_id=1, chain_head="0" * 64, event_count=1)  # fmt: skip


def into_execution(i: int, at: datetime) -> dict:
    return dict(request_id=i, seq=1, at=at, kind=EventKind.TRANSITION.value,
                data={"from": "accepted", "to": "in_execution"}, prev_hash="0" * 64,
                hash="0" * 64)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=3000)
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--postgres", help="a database it empties first")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{os.path.join(tmp, 'bench.db')}"
        if args.postgres:
            from mla.config import normalize_database_url

            url = normalize_database_url(args.postgres)
        engine = make_engine(url)
        if args.postgres:
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        migrate.upgrade(engine)
        with Session(engine) as session:
            add = authorities.add_authority
            arg = add(session, "ARG-DAJIN", country="AR", name="ARG", timezone="UTC")
            mex = add(session, "MEX-FGR", country="MX", name="MEX", timezone="UTC")
            session.commit()
            base = datetime(2024, 1, 1, tzinfo=UTC)
            rows, events = [], []
            now = base + timedelta(hours=4 * args.history)
            for i in range(1, args.history + 1):
                at = base + timedelta(hours=4 * i)
                ack, decision, execution = stages(rng)
                entered = at + timedelta(days=ack + decision)
                closed = entered + timedelta(days=execution)
                if closed < now:
                    rows.append(request_row(i, arg.id, mex.id, "closed", at, closed))
                elif entered < now:
                    rows.append(request_row(i, arg.id, mex.id, "in_execution", at, None))
                else:
                    rows.append(request_row(i, arg.id, mex.id, "received", at, None))
                if entered < now:
                    events.append(into_execution(i, entered))
            session.execute(insert(Request), rows)
            session.execute(insert(Event), events)
            session.commit()
            done = sum(1 for r in rows if r["closed_at"])
            print(
                f"history: {args.history} requests over {args.history // 6} days, {done} closed; "
                f"{args.trials} trials per state "
                f"({engine.dialect.name}, seed {args.seed})"
            )
            for state in ("received", "in_execution"):
                before50 = before90 = 0
                sample = 0
                for t in range(args.trials):
                    i = args.history + 1 + t + (args.trials if state == "in_execution" else 0)
                    ack, decision, execution = stages(rng)
                    if state == "received":
                        since = now - timedelta(hours=rng.uniform(0, 4))
                        true_end = since + timedelta(days=ack + decision + execution)
                    else:
                        since = now - timedelta(days=rng.uniform(0, 5))
                        true_end = since + timedelta(days=execution)
                    session.execute(
                        insert(Request), [request_row(i, arg.id, mex.id, state, since, None)]
                    )
                    if state == "in_execution":
                        session.execute(insert(Event), [into_execution(i, since)])
                    request = session.get(Request, i)
                    assert request is not None
                    found = estimates.estimate(session, request)
                    assert found is not None and found.p50 and found.p90
                    sample = found.sample
                    before50 += true_end <= found.p50
                    before90 += true_end <= found.p90
                session.commit()
                print(
                    f"  {state:13s} estimate on {sample} past requests: "
                    f"{before50 / args.trials:6.1%} done by P50 (about 50% expected), "
                    f"{before90 / args.trials:6.1%} by P90 (about 90% expected)"
                )


if __name__ == "__main__":
    main()
