"""Real worker passes in two spawned processes at once, for the tests that share one
database between workers."""

from __future__ import annotations

import multiprocessing
from datetime import datetime
from typing import Any

from mla.worker import Pass


def _worker_pass(
    config: dict[str, Any], now: datetime, start: Any, results: Any
) -> None:  # pragma: no cover
    # Runs in a spawned process: the real worker pass, in batches of 5 so that the
    # processes compete for the same due rows.
    from mla import create_app, worker

    worker.SWEEP_BATCH = worker.DISPATCH_BATCH = 5
    app = create_app(config)
    start.wait(30)
    try:
        results.put(worker.run_once(app, now))
    finally:
        app.extensions["mla.db"].engine.dispose()


def run_worker_passes(configs: list[dict[str, Any]], now: datetime) -> list[Pass]:
    """One worker pass at ``now`` per app config, all started together; their results."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    workers = [
        context.Process(target=_worker_pass, args=(config, now, start, results))
        for config in configs
    ]
    for w in workers:
        w.start()
    start.set()
    passes = [results.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(30)
        assert w.exitcode == 0
    results.close()
    results.join_thread()
    return passes
