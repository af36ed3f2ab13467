"""Latency and throughput of ``GET /api/v1/requests/{reference}`` against a floor.

    .venv/bin/pip install -e '.[bench]'      # gunicorn
    .venv/bin/python bench/status_api.py [seconds]

For SQLite and, when ``MLA_TEST_POSTGRES_URL`` (or ``MLA_BENCH_POSTGRES_URL``) is set,
PostgreSQL: loads a fresh database with one transmitted request and a token, starts gunicorn
on loopback (2 workers, gthread, 2 threads each: a process per core and few threads, so that
they do not queue on the GIL; BENCH_WORKERS and BENCH_THREADS change it; ``--reuse-port``, so
that the kernel spreads the connections over the workers instead of whichever wakes first
taking most of them) on an app factory that adds a bare endpoint doing one primary-key
SELECT (the floor; it exists only in this wrapper, never in production), then drives both
with 16 keep-alive connections (wrk when installed, else Python threads) in alternating
rounds. Prints requests/s, p50 and p99 of each and the ratio API/floor (targets: >= 0.5,
API p99 < 50 ms). The rate limit is lifted.
"""

from __future__ import annotations

import http.client
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 16
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")


def bench_app():  # type: ignore[no-untyped-def]
    """gunicorn's app factory: the production app plus the floor endpoint."""
    from flask import jsonify
    from sqlalchemy import select

    from mla import create_app
    from mla.db import get_session
    from mla.requests.models import Request

    app = create_app()
    request_id = int(os.environ["BENCH_REQUEST_ID"])

    @app.get("/bench/floor")
    def floor():  # type: ignore[no-untyped-def]
        session = get_session()
        reference = session.execute(
            select(Request.reference).where(Request.id == request_id)
        ).scalar_one()
        session.commit()
        return jsonify(reference=reference)

    return app


def _seed(env: dict[str, str]) -> tuple[int, str, str]:
    """A migrated database with ARG -> MEX request, transmitted; returns (id, ref, token)."""
    from mla import create_app, migrate
    from mla.app_services import request_service
    from mla.authorities import service as authorities
    from mla.authorities import tokens
    from mla.db import unit_of_work
    from mla.requests.service import Actor

    app = create_app({k: v for k, v in env.items() if k.startswith("MLA_")})
    db = app.extensions["mla.db"]
    migrate.upgrade(db.engine)
    fields = {
        "conducting_authority": "Fiscalía Federal N.º 3",
        "proceeding_type": "investigation",
        "subject": "Lavado de activos",
        "assistance_types": ["records"],
        "facts": "Transferencias a cuentas en México.",
        "assistance_sought": "Extractos de la cuenta 0123456789.",
        "purpose": "Acreditar el origen de los fondos.",
        "language": "es",
    }
    with app.app_context(), unit_of_work() as session:
        arg = authorities.add_authority(
            session, "ARG-DAJIN", country="AR", name="DAJIN", languages=["es"]
        )
        authorities.add_authority(session, "MEX-FGR", country="MX", name="FGR", languages=["es"])
        svc = request_service()
        clerk = Actor(authority=arg, role=authorities.Role.SUPERVISOR)
        request = svc.create(
            clerk, kind="mla", requested_authority="MEX-FGR", legal_basis="untoc-18",
            fields=fields,
        )  # fmt: skip
        for event in ("submit_for_review", "sign", "transmit"):
            svc.fire(request, event, clerk)
        _row, token = tokens.create(session, arg)
        result = (request.id, request.reference, token)
    db.engine.dispose()
    return result


def _percentiles(values: Sequence[float]) -> list[float]:
    """The 99 cut points between percentiles (as ``statistics.quantiles(n=100)``, exclusive)."""
    ordered, n = sorted(values), len(values)
    cuts = []
    for i in range(1, 100):
        at = i * (n + 1) / 100
        j = min(max(int(at), 1), n - 1) if n > 1 else 1
        low, high = ordered[j - 1], ordered[min(j, n - 1)]
        cuts.append(low + (high - low) * (at - j))
    return cuts


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, server: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if server.poll() is not None:
            raise SystemExit("gunicorn exited; see its output above")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("gunicorn did not start")


def _drive(port: int, path: str, headers: dict[str, str], seconds: float) -> list[float]:
    """CLIENTS threads, each on one keep-alive connection, for ``seconds``; latencies (s)."""
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    stop = time.perf_counter() + seconds
    errors: list[str] = []

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                latencies[n].append(time.perf_counter() - t0)
                if response.status != 200:
                    errors.append(f"{path}: {response.status}")
                    return
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(errors[0])
    return [x for per in latencies for x in per]


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _wrk(
    port: int, path: str, headers: dict[str, str], seconds: float
) -> tuple[float, float, float]:
    """Drive with wrk (C, so the load generator takes little of the 2 cores from the server);
    returns (requests/s, p50 ms, p99 ms)."""
    args = ["wrk", "-t2", f"-c{CLIENTS}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run(
        [*args, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"{path}: wrk saw non-2xx responses\n{out}")
    found: dict[str, float] = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] in ("50%", "99%"):
            number = words[1].rstrip("usm")
            unit = words[1][len(number) :]
            found[words[0]] = float(number) * _UNITS[unit]
        elif line.startswith("Requests/sec:"):
            found["rps"] = float(words[1])
    return found["rps"], found["50%"], found["99%"]


def _figures(latencies: list[float], seconds: float) -> tuple[float, float, float]:
    cuts = _percentiles(latencies)
    return len(latencies) / seconds, cuts[49] * 1000, cuts[98] * 1000


def run(backend: str, url: str | None, seconds: float) -> None:
    instance = Path(tempfile.mkdtemp(prefix="mla-bench-"))
    env = {
        **os.environ,
        "MLA_INSTANCE_DIR": str(instance),
        "MLA_API_RATE": "1000000/second",
        "MLA_SECRET_KEY": secrets.token_hex(32),
    }
    if url:
        env["MLA_DATABASE_URL"] = url
    request_id, reference, token = _seed(env)
    env["BENCH_REQUEST_ID"] = str(request_id)
    port = _free_port()
    server = subprocess.Popen(
        [GUNICORN, "-w", str(WORKERS), "-k", "gthread", "--threads", str(THREADS),
         "--reuse-port", "-b", f"127.0.0.1:{port}", "--pythonpath", str(ROOT / "bench"),
         "--log-level", "warning", "status_api:bench_app()"],
        env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        _wait(port, server)
        api = (f"/api/v1/requests/{reference}", {"Authorization": f"Bearer {token}"})
        floor: tuple[str, dict[str, str]] = ("/bench/floor", {})
        for path, headers in (floor, api):
            _drive(port, path, headers, 1.0)  # warm up (connections, caches, first audit)
        if shutil.which("wrk"):
            # Alternate short rounds and take medians: a burst of noise on a shared machine
            # then spoils one round of each, not the whole of one side.
            rounds = 5
            runs = {"floor": [], "api": []}  # type: dict[str, list[tuple[float, float, float]]]
            for _ in range(rounds):
                runs["floor"].append(_wrk(port, *floor, seconds / (2 * rounds)))
                runs["api"].append(_wrk(port, *api, seconds / (2 * rounds)))
            f_rps, f_p50, f_p99 = (statistics.median(x) for x in zip(*runs["floor"], strict=True))
            a_rps, a_p50, a_p99 = (statistics.median(x) for x in zip(*runs["api"], strict=True))
        else:
            results: dict[str, list[float]] = {"floor": [], "api": []}
            rounds = 3
            for _ in range(rounds):
                results["floor"] += _drive(port, *floor, seconds / (2 * rounds))
                results["api"] += _drive(port, *api, seconds / (2 * rounds))
            f_rps, f_p50, f_p99 = _figures(results["floor"], seconds / 2)
            a_rps, a_p50, a_p99 = _figures(results["api"], seconds / 2)
        print(f"{backend}: floor (one PK SELECT)  {f_rps:8.0f} req/s  p50 {f_p50:6.2f} ms  "
              f"p99 {f_p99:6.2f} ms")  # fmt: skip
        print(f"{backend}: GET /requests/{{ref}} {a_rps:8.0f} req/s  p50 {a_p50:6.2f} ms  "
              f"p99 {a_p99:6.2f} ms")  # fmt: skip
        verdict = "ok" if a_rps / f_rps >= 0.5 and a_p99 < 50 else "BELOW TARGET"
        print(f"{backend}: ratio API/floor {a_rps / f_rps:.2f} (target >= 0.5), "
              f"API p99 {a_p99:.1f} ms (target < 50): {verdict}")  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(instance, ignore_errors=True)


def _postgres() -> tuple[str, object] | None:
    base = os.environ.get("MLA_BENCH_POSTGRES_URL") or os.environ.get("MLA_TEST_POSTGRES_URL")
    if not base:
        return None
    from sqlalchemy import make_url, text

    from mla.config import normalize_database_url
    from mla.db import make_engine

    admin = make_engine(normalize_database_url(base), isolation_level="AUTOCOMMIT")
    name = f"mla_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    url = make_url(normalize_database_url(base)).set(database=name)
    return url.render_as_string(hide_password=False), drop


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 12.0
    if not Path(GUNICORN).exists():
        raise SystemExit(f"{GUNICORN} not found: run .venv/bin/pip install -e '.[bench]'")
    client = "wrk" if shutil.which("wrk") else "Python threads (install wrk for a lighter client)"
    print(f"{CLIENTS} clients ({client}), gunicorn {WORKERS} workers x {THREADS} threads, "
          f"{seconds:g} s per backend")  # fmt: skip
    run("sqlite", None, seconds)
    pg = _postgres()
    if pg is None:
        print("postgresql: skipped (set MLA_TEST_POSTGRES_URL)")
        return
    url, drop = pg
    try:
        run("postgresql", url, seconds)
    finally:
        drop()  # type: ignore[operator]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
