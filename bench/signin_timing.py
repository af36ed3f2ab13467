"""Does a refused sign-in's timing tell anything? Unknown user, wrong password, throttled.

    python bench/signin_timing.py [--rounds 30] [--postgres postgresql://postgres@127.0.0.1/test]

Runs mla under the server `mla serve` uses (cheroot) on a free loopback port over a fresh
database with one clerk, and times the sign-in POST over HTTP for each kind of refusal, the
kinds interleaved so that the machine's load falls on all alike: an unknown username, a
known one with a wrong password (both from a new client address each time, so that neither
is throttled), and the known one with the right password from an address throttled by
earlier failures. Client addresses come from X-Forwarded-For, believed because the server
runs with MLA_TRUSTED_PROXIES=1. Prints the median and 90th percentile of each and each
median against the wrong password's; a ratio near 1.0 means the timing does not tell them
apart. Prints figures, never asserts.
"""

from __future__ import annotations

import argparse
import http.client
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere


from mla import create_app, migrate
from mla.authorities import service as authorities
from mla.db import get_session, make_engine
from mla.server import make_server

PASSWORD = "bench-password-42"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def attempt(port: int, client: str, username: str, password: str) -> tuple[float, int, str]:
    """Fetch the form, then time the POST alone; returns (seconds, status, error message)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"X-Forwarded-For": client}
    conn.request("GET", "/login", headers=headers)
    page = conn.getresponse()
    body = page.read().decode()
    cookie = page.getheader("Set-Cookie", "").split(";")[0]
    token = _CSRF.search(body).group(1)  # type: ignore[union-attr]
    form = f"csrf_token={token}&username={username}&password={password}"
    headers |= {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    start = time.perf_counter()
    conn.request("POST", "/login", body=form, headers=headers)
    response = conn.getresponse()
    answer = response.read().decode()
    elapsed = time.perf_counter() - start
    conn.close()
    error = re.search(r'id="login-error">([^<]*)<', answer)
    return elapsed, response.status, error.group(1) if error else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--postgres", help="a PostgreSQL URL instead of a SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{tmp}/bench.db"
        engine = make_engine(url if not url.startswith("postgresql://") else url.replace(
            "postgresql://", "postgresql+psycopg://", 1))  # fmt: skip
        migrate.upgrade(engine)
        engine.dispose()
        app = create_app(
            {"MLA_INSTANCE_DIR": tmp, "MLA_DATABASE_URL": url, "MLA_TRUSTED_PROXIES": "1"}
        )
        with app.app_context():
            db = get_session()
            authorities.add_authority(db, "MEX-FGR", country="MX", name="FGR")
            authorities.add_user(db, "lucia", authority_code="MEX-FGR", role="clerk",
                                 email="lucia@example.org", password=PASSWORD)  # fmt: skip
            db.commit()
        server = make_server(app, "127.0.0.1", 0, threads=2)
        server.prepare()
        threading.Thread(target=server.serve, daemon=True).start()
        port = server.bind_addr[1]
        for _ in range(6):  # throttle one address for lucia
            attempt(port, "192.0.2.1", "lucia", "wrong-password-1")
        times: dict[str, list[float]] = {"unknown user": [], "wrong password": [], "throttled": []}
        answers: set[tuple[int, str]] = set()
        for n in range(args.rounds):
            for kind, (client, user, pw) in {
                "unknown user": (f"198.51.100.{n % 250 + 1}", "nobody", "wrong-password-1"),
                "wrong password": (f"203.0.113.{n % 250 + 1}", "lucia", "wrong-password-1"),
                "throttled": ("192.0.2.1", "lucia", PASSWORD),
            }.items():
                elapsed, status, message = attempt(port, client, user, pw)
                times[kind].append(elapsed)
                answers.add((status, message))
        server.stop()
        app.extensions["mla.db"].engine.dispose()
    floor = statistics.median(times["wrong password"])
    print(f"{'refusal':<16}{'median ms':>10}{'p90 ms':>9}{'vs wrong pw':>13}")
    for kind, values in times.items():
        median = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"{kind:<16}{median * 1000:>10.1f}{p90 * 1000:>9.1f}{median / floor:>13.2f}")
    print(f"distinct answers (status, message): {len(answers)}: {sorted(answers)}")


if __name__ == "__main__":
    main()
