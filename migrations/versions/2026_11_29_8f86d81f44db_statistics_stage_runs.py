"""statistics stage runs: one row per completed stage of a request and party authority

The turnaround table read every stage deadline of an authority's requests (a probe of the
deadline index per request) and counted business days per row at report time. From here on
``stage_run`` holds each completed stage (an acknowledgement, decision or execution
deadline met or missed, or the whole request from creation or transmission to closure) once
per authority it counts for, with the request's group columns and its durations counted when
it ended (and, for the whole request, the grounds given on its way into its final state, which
the outcomes table read from the history); mla.statistics.runs writes it with each step that
moves it.

This revision fills it for the existing history in set-based SQL. Business days are those
after the start's local date up to and including the end's on the party authority's
calendar (Saturday and Sunday, public holidays from the ``holidays`` package, the
authority's closures): two helper tables, made here and dropped at the end, give each
authority's UTC offsets over time (from ``zoneinfo``) and a business-day number per local
day, so that a run's business days are the difference of two looked-up numbers.

Revision ID: 8f86d81f44db
Revises: 7a4e2c9d1f35
Create Date: 2026-11-29 19:40:00
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "8f86d81f44db"
down_revision: str | None = "7a4e2c9d1f35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in mla.statistics.runs at this revision: the deadlines that measure a stage (each
# stage is named after its deadline) and the outcomes that count.
STAGE_DEADLINES = ("acknowledgement", "decision", "execution")
COUNTED = ("met", "missed")
WEEKEND = (5, 6)
REPORT_INDEX = [
    "authority_id",
    "ended_at",
    "direction",
    "stage",
    "days",
    "business_days",
    "counterpart_id",
    "kind",
    "legal_basis",
    "urgency",
    "outcome",
    "offence_categories",
    "grounds",
]
# (direction, the party's authority, the counterpart, when the request began for it, which
# requests count for it), as mla.statistics.runs.parties says.
PARTIES = (
    (
        "outgoing",
        "r.requesting_authority_id",
        "r.requested_authority_id",
        "r.created_at",
        "1 = 1",
    ),
    (
        "incoming",
        "r.requested_authority_id",
        "r.requesting_authority_id",
        "r.transmitted_at",
        "r.transmitted_at IS NOT NULL",
    ),
    (
        "incoming",
        "r.executing_authority_id",
        "r.requesting_authority_id",
        "r.transmitted_at",
        "r.transmitted_at IS NOT NULL AND r.executing_authority_id IS NOT NULL"
        " AND r.executing_authority_id <> r.requested_authority_id",
    ),
)
FAR = 2**40  # seconds: past any instant stored


def _create_table() -> None:
    op.create_table(
        "stage_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column(
            "authority_id",
            sa.Integer(),
            nullable=False,
            comment="the party authority whose statistics count this run",
        ),
        sa.Column(
            "direction",
            sa.String(length=8),
            nullable=False,
            comment="outgoing (it made the request) or incoming (transmitted to it)",
        ),
        sa.Column(
            "stage",
            sa.String(length=32),
            nullable=False,
            comment="acknowledgement, decision, execution, or whole",
        ),
        sa.Column(
            "deadline_id",
            sa.Integer(),
            nullable=True,
            comment="the deadline whose run this is; None for the whole request",
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "days",
            sa.Float(),
            nullable=False,
            comment="ended_at - started_at, in days to the tenth",
        ),
        sa.Column(
            "business_days",
            sa.Integer(),
            nullable=False,
            comment="business days after the start's local date up to and including the "
            "end's, on the authority's calendar when the row was written",
        ),
        sa.Column(
            "counterpart_id",
            sa.Integer(),
            nullable=True,
            comment="the other central authority: requested (outgoing), requesting (incoming)",
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("legal_basis", sa.String(length=32), nullable=False),
        sa.Column("urgency", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True, comment="None while open"),
        sa.Column(
            "offence_categories",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "grounds",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            comment="of the whole request: the grounds given on a transition into its final state",
        ),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["authority.id"],
            name=op.f("fk_stage_run_authority_id_authority"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["request.id"],
            name=op.f("fk_stage_run_request_id_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_run")),
    )


def _offsets(zone: str, first: int, last: int) -> list[tuple[int, int, int]]:
    """(since, until, UTC offset) in epoch seconds, covering every instant from 0 to FAR,
    with each change of offset between ``first`` and ``last`` found to the second."""
    try:
        tz = ZoneInfo(zone or "UTC")
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")

    def offset(second: int) -> int:
        moment = datetime.fromtimestamp(second, UTC).astimezone(tz).utcoffset()
        return int(moment.total_seconds()) if moment else 0

    found: list[tuple[int, int, int]] = []
    since, current = 0, offset(first)
    step = 6 * 3600
    t = first
    while t < last:
        nxt = t + step
        if offset(nxt) != current:
            lo, hi = t, nxt
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(mid) == current else (lo, mid)
            found.append((since, hi, current))
            since, current = hi, offset(hi)
        t = nxt
    found.append((since, FAR, current))
    return found


def _public_holidays(country: str, subdivision: str | None, years: list[int]) -> set[date]:
    """As mla.deadlines.calendar falls back: the subdivision's holidays, else the country's,
    else none."""
    for sub in [subdivision, None] if subdivision else [None]:
        try:
            return set(holidays.country_holidays((country or "").upper(), subdiv=sub, years=years))
        except NotImplementedError:
            continue
    return set()


def _helpers(bind: sa.Connection) -> bool:
    """Fill the helper tables over the instants the history holds; False when no stage has
    ended yet (nothing to fill)."""
    low, high = bind.execute(
        sa.text(
            "SELECT min(m), max(n) FROM (SELECT min(created_at) AS m, max(closed_at) AS n "
            "FROM request UNION ALL SELECT min(started_at), max(closed_at) FROM deadline) AS x"
        )
    ).one()
    if low is None or high is None:
        return False
    if isinstance(low, str):  # SQLite hands back text
        low, high = datetime.fromisoformat(low), datetime.fromisoformat(high)
    low = low.replace(tzinfo=UTC) if low.tzinfo is None else low
    high = high.replace(tzinfo=UTC) if high.tzinfo is None else high
    first, last = low - timedelta(days=2), high + timedelta(days=2)
    meta = sa.MetaData()
    zone = sa.Table(
        "stage_run_zone",
        meta,
        sa.Column("authority_id", sa.Integer, primary_key=True),
        sa.Column("since", sa.BigInteger, primary_key=True),
        sa.Column("until", sa.BigInteger, nullable=False),
        sa.Column("offset_s", sa.Integer, nullable=False),
    )
    day = sa.Table(
        "stage_run_day",
        meta,
        sa.Column("authority_id", sa.Integer, primary_key=True),
        sa.Column("day", sa.Integer, primary_key=True),
        sa.Column("ordinal", sa.Integer, nullable=False),
    )
    meta.create_all(bind)
    closures: dict[int, set[date]] = {}
    for authority_id, closed in bind.execute(
        sa.text("SELECT authority_id, day FROM authority_closure")
    ):
        closed = date.fromisoformat(closed) if isinstance(closed, str) else closed
        closures.setdefault(authority_id, set()).add(closed)
    epoch = date(1970, 1, 1)
    start_day, end_day = first.date(), last.date()
    years = list(range(start_day.year, end_day.year + 1))
    for authority_id, country, subdivision, timezone in bind.execute(
        sa.text("SELECT id, country, holiday_subdivision, timezone FROM authority")
    ):
        offsets = _offsets(timezone, int(first.timestamp()), int(last.timestamp()))
        bind.execute(
            zone.insert(),
            [
                {"authority_id": authority_id, "since": s, "until": u, "offset_s": o}
                for s, u, o in offsets
            ],
        )
        closed = _public_holidays(country, subdivision, years) | closures.get(authority_id, set())
        rows, ordinal, d = [], 0, start_day
        while d <= end_day:
            if d.weekday() not in WEEKEND and d not in closed:
                ordinal += 1
            rows.append({"authority_id": authority_id, "day": (d - epoch).days, "ordinal": ordinal})
            d += timedelta(days=1)
        bind.execute(day.insert(), rows)
    return True


def _fill(bind: sa.Connection) -> None:
    sqlite = bind.dialect.name == "sqlite"

    def seconds(moment: str) -> str:
        if sqlite:
            return f"CAST(strftime('%s', {moment}) AS INTEGER)"
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {moment})) AS BIGINT)"

    def days(start: str, end: str) -> str:
        # To the tenth, as mla.statistics.runs rounds them (the database's ROUND, which may
        # round a run of exactly k.k5 days up where Python rounds it to even).
        if sqlite:
            return f"ROUND(julianday({end}) - julianday({start}), 1)"
        return f"CAST(ROUND(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0, 1) AS FLOAT)"

    # The grounds given on the transitions of a closed request into its final state (a
    # refusal's), each once: what mla.statistics.runs reads from the history as it closes.
    if sqlite:
        none = "'[]'"
        grounds = (
            "(SELECT json_group_array(g) FROM (SELECT DISTINCT j.value AS g FROM event e, "
            "json_each(e.data, '$.inputs.grounds') j WHERE e.request_id = r.id "
            "AND e.kind = 'transition' AND json_extract(e.data, '$.to') = r.outcome "
            "ORDER BY 1) AS x)"
        )
    else:
        none = "CAST('[]' AS jsonb)"
        grounds = (
            "(SELECT COALESCE(jsonb_agg(g ORDER BY g), CAST('[]' AS jsonb)) FROM ("
            "SELECT DISTINCT jsonb_array_elements_text(e.data -> 'inputs' -> 'grounds') AS g "
            "FROM event e WHERE e.request_id = r.id AND e.kind = 'transition' "
            "AND e.data ->> 'to' = r.outcome "
            "AND jsonb_typeof(e.data -> 'inputs' -> 'grounds') = 'array') AS x)"
        )
    stages = ", ".join(f"'{n}'" for n in STAGE_DEADLINES)
    counted = ", ".join(f"'{o}'" for o in COUNTED)
    for direction, authority, counterpart, since, counts in PARTIES:
        sources = [
            # Each stage deadline met or missed, of a request transmitted or closed (an
            # untransmitted open request has no run: mla.statistics.runs skips it).
            (
                "d.name",
                none,
                "d.id",
                "d.started_at",
                "d.closed_at",
                "FROM deadline d JOIN request r ON r.id = d.request_id "
                f"WHERE d.closed_at IS NOT NULL AND d.name IN ({stages}) "
                f"AND d.outcome IN ({counted}) "
                "AND (r.transmitted_at IS NOT NULL OR r.closed_at IS NOT NULL)",
            ),
            (
                "'whole'",
                grounds,
                "CAST(NULL AS INTEGER)",
                since,
                "r.closed_at",
                "FROM request r WHERE r.closed_at IS NOT NULL",
            ),
        ]
        for stage, given, deadline_id, started, ended, source in sources:
            # Built from this module's constants only.
            op.execute(
                "INSERT INTO stage_run (request_id, authority_id, direction, stage, "  # noqa: S608
                "deadline_id, started_at, ended_at, days, business_days, counterpart_id, kind, "
                "legal_basis, urgency, outcome, offence_categories, grounds) "
                "SELECT s.request_id, s.authority_id, s.direction, s.stage, s.deadline_id, "
                "s.started_at, s.ended_at, s.days, de.ordinal - ds.ordinal, s.counterpart_id, "
                "s.kind, s.legal_basis, s.urgency, s.outcome, s.offence_categories, s.grounds FROM ("
                f"SELECT r.id AS request_id, {authority} AS authority_id, "
                f"'{direction}' AS direction, {stage} AS stage, {deadline_id} AS deadline_id, "
                f"{started} AS started_at, {ended} AS ended_at, {days(started, ended)} AS days, "
                f"{seconds(started)} AS start_s, {seconds(ended)} AS end_s, "
                f"{counterpart} AS counterpart_id, r.kind, r.legal_basis, r.urgency, r.outcome, "
                f"r.offence_categories, {given} AS grounds {source} AND {counts}) AS s "
                "JOIN stage_run_zone zs ON zs.authority_id = s.authority_id "
                "AND s.start_s >= zs.since AND s.start_s < zs.until "
                "JOIN stage_run_zone ze ON ze.authority_id = s.authority_id "
                "AND s.end_s >= ze.since AND s.end_s < ze.until "
                "JOIN stage_run_day ds ON ds.authority_id = s.authority_id "
                "AND ds.day = (s.start_s + zs.offset_s) / 86400 "
                "JOIN stage_run_day de ON de.authority_id = s.authority_id "
                "AND de.day = (s.end_s + ze.offset_s) / 86400"
            )


def upgrade() -> None:
    _create_table()
    bind = op.get_bind()
    if _helpers(bind):
        _fill(bind)
    op.execute("DROP TABLE IF EXISTS stage_run_zone")
    op.execute("DROP TABLE IF EXISTS stage_run_day")
    op.create_index("ix_stage_run_request_id", "stage_run", ["request_id"], unique=False)
    op.create_index("ix_stage_run_report", "stage_run", REPORT_INDEX, unique=False)


def downgrade() -> None:
    op.drop_index("ix_stage_run_report", "stage_run")
    op.drop_index("ix_stage_run_request_id", "stage_run")
    op.drop_table("stage_run")
