"""Durations and working calendars: the date arithmetic under every deadline.

No database here. The deadline service stores what :meth:`Calendar.add` returns and the sweeper
compares it with the clock; both only ever see timezone-aware UTC datetimes.

Semantics (the API documentation and the UI copy from this list):

* **Local days.** All day counting happens in the owner authority's time zone (``zoneinfo``),
  so "the day a request arrived" is the date on the authority's wall clock, not in UTC. Every
  instant belongs to exactly one local date.
* **Due at the end of the local day.** A deadline in business or calendar days falls due at the
  *last microsecond* of the target local day (23:59:59.999999 local, converted to UTC). We do
  not use "next local midnight": that instant already belongs to the following day, so adding
  or subtracting days from a stored due time, or from a date field converted to its midnight,
  would be off by one. A deadline is missed when ``now > due``. DST is handled by computing the
  end of day D as (start of day D+1) minus 1 µs in UTC, which is right on days with a repeated
  or skipped hour, including zones that change at midnight (America/Santiago, America/Sao_Paulo).
* **Counting starts the day after** (dies a quo non computatur): ``n`` business days from an
  instant are the ``n`` business days strictly after its local date; the result is the end of
  the ``n``-th. Calendar days likewise: the end of local date + ``n``. The target of a calendar
  day count is not moved off weekends or holidays (a 60-day provisional arrest ends on day 60
  whatever day that is); where a treaty says otherwise, express it in business days.
* **Hours are elapsed time**: ``start + n hours`` exactly, so 24 hours across a DST change is
  23 or 25 hours on the wall clock.
* **Months are calendar months** ("two months", as some treaties count): ``n`` months from an
  instant end at the end of the same day of the local month ``n`` later, or of that month's
  last day when it is shorter (31 January + 1 month = 28 or 29 February). Like calendar days,
  the target is not moved off weekends or holidays; a pause shifts it by the calendar days it
  lasted.
* **Negative durations** count backwards with the same rules, for reminders before a due time:
  "-2 business days" from a due at the end of Wednesday is the end of Monday, leaving two whole
  business days (Tuesday, Wednesday) to act.
* **Zero** ("0", or 0 of any unit) is the identity: ``add(t, 0) == t``. The escalation step
  "at: 0" therefore fires at the due moment itself.
* **Pauses** (the clock stops while the other party holds the request, e.g. information was
  requested under Palermo 18.16): :meth:`Calendar.shift_for_pause` moves a due time later by
  what elapsed during the pause, in the deadline's own unit. For business days that is
  :meth:`Calendar.business_days_between` the pause's start and end: the day the pause began
  counts as used, the day it ended counts as a new start day. A pause within one local day
  shifts nothing. Apply one shift per closed pause, in any order (shifts commute).
* **Holidays** come from the ``holidays`` package (public holidays of the country, or of the
  subdivision when one is given), cached per (country, subdivision, year), plus the authority's
  own closure dates. An unknown country falls back to weekends only, and an unknown subdivision
  to the country's national holidays; :attr:`Calendar.fallback` says which, for the admin UI.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from mla.errors import N_, FieldError, Invalid, Message

Unit = Literal["business_days", "calendar_days", "hours", "months"]
UNITS: tuple[Unit, ...] = get_args(Unit)

# Large enough for any real deadline (ten years), small enough that arithmetic never overflows
# datetime and a typo such as "100000 days" is caught when the workflow is checked.
MAX_AMOUNT = {"business_days": 2600, "calendar_days": 3660, "hours": 87840, "months": 120}

# A run of this many consecutive closed days means a misconfigured calendar, not a long holiday.
_MAX_CLOSED_RUN = 366

_ONE_US = timedelta(microseconds=1)


@dataclass(frozen=True)
class Duration:
    """A signed length of time to count on a calendar.

    ``amount`` may be negative (before a moment) or zero (the moment itself). Workflow
    definitions write durations in the loader's grammar (:mod:`mla.workflow.shapes`); the
    deadline service resolves them (and their figures) into this. ``str()`` gives the text.
    """

    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise Invalid(
                Message(
                    N_("unknown duration unit %(unit)r; expected one of %(UNITS)s"),
                    {"unit": self.unit, "UNITS": UNITS},
                )
            )
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise Invalid(
                Message(
                    N_("duration amount must be a whole number, got %(amount)r"),
                    {"amount": self.amount},
                )
            )
        if abs(self.amount) > MAX_AMOUNT[self.unit]:
            raise Invalid(
                Message(
                    N_("duration %(self)s is too long; at most %(MAX_AMOUNT)s %(unit)s"),
                    {
                        "self": self,
                        "MAX_AMOUNT": MAX_AMOUNT[self.unit],
                        "unit": self.unit.replace("_", " "),
                    },
                )
            )

    def __str__(self) -> str:
        if self.amount == 0:
            return "0"
        word = {
            "business_days": "business day",
            "calendar_days": "calendar day",
            "hours": "hour",
            "months": "month",
        }
        plural = "" if abs(self.amount) == 1 else "s"
        return f"{self.amount} {word[self.unit]}{plural}"


@lru_cache(maxsize=512)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    # The holidays package builds a year's table on demand and is not cheap; a sweeper asks
    # the same (country, year) thousands of times.
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


def _require_aware(value: datetime, name: str) -> None:
    # A naive datetime here is a programming error: guessing its zone would silently move
    # deadlines by hours, so refuse loudly rather than raise a user-facing Invalid.
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


class Calendar:
    """The working calendar of one authority: its time zone, weekend, holidays and closures.

    ``country`` is an ISO 3166-1 alpha-2 code, ``subdivision`` an ISO 3166-2 suffix as the
    ``holidays`` package names it (e.g. ``"NY"``), ``timezone`` an IANA name. ``weekend`` holds
    ``date.weekday()`` numbers (Monday 0). Raises :class:`~mla.errors.Invalid` for an unknown
    time zone or a weekend of all seven days; an unknown country or subdivision does not raise
    but is reported in :attr:`fallback`.

    Instances are immutable after construction and safe to share between threads.
    """

    def __init__(
        self,
        country: str,
        subdivision: str | None = None,
        timezone: str = "UTC",
        closures: Iterable[date] = (),
        weekend: Iterable[int] = (5, 6),
    ) -> None:
        try:
            self.tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise Invalid(
                FieldError("timezone", N_("unknown time zone %(timezone)r"), {"timezone": timezone})
            ) from None
        self.timezone = timezone
        self.weekend = frozenset(weekend)
        if not self.weekend <= set(range(7)) or len(self.weekend) == 7:
            raise Invalid(
                FieldError(
                    "weekend",
                    N_("weekend must be some of the days 0-6, not all: %(weekend)s"),
                    {"weekend": weekend},
                )
            )
        self.closures = frozenset(closures)
        self.country = (country or "").upper()
        self.subdivision: str | None = subdivision or None
        #: None when the holidays package knows the country (and subdivision); otherwise a
        #: sentence saying what the calendar fell back to, for admins and logs.
        self.fallback: str | None = None
        self._holidays_country: str | None = self.country
        self._probe_holidays()

    def _probe_holidays(self) -> None:
        year = datetime.now(UTC).year
        try:
            _public_holidays(self.country, self.subdivision, year)
            return
        except NotImplementedError:
            pass
        if self.subdivision is not None:
            try:
                _public_holidays(self.country, None, year)
            except NotImplementedError:
                pass
            else:
                self.fallback = (
                    f"no holiday data for subdivision {self.subdivision!r} of {self.country}; "
                    "using national holidays only"
                )
                self.subdivision = None
                return
        self.fallback = f"no holiday data for country {self.country!r}; using weekends only"
        self._holidays_country = None
        self.subdivision = None

    @property
    def holidays_known(self) -> bool:
        """True when public holidays come from the ``holidays`` package as configured."""
        return self.fallback is None

    def __repr__(self) -> str:
        sub = f"-{self.subdivision}" if self.subdivision else ""
        return f"Calendar({self.country}{sub}, {self.timezone}, closures={len(self.closures)})"

    # -- days ------------------------------------------------------------------------------

    def is_holiday(self, d: date) -> bool:
        """True for a public holiday or an authority closure (weekends aside)."""
        if d in self.closures:
            return True
        if self._holidays_country is None:
            return False
        return d in _public_holidays(self._holidays_country, self.subdivision, d.year)

    def is_business_day(self, d: date) -> bool:
        """True when ``d`` is neither a weekend day, a public holiday nor a closure."""
        return d.weekday() not in self.weekend and not self.is_holiday(d)

    def step_business_days(self, d: date, n: int) -> date:
        """The ``n``-th business day after ``d`` (before it, for negative ``n``); ``d`` if 0.

        ``d`` itself is never counted. Raises :class:`~mla.errors.Invalid` if the calendar has
        no business day for over a year, which only a misconfigured closure list can cause.
        """
        step = timedelta(days=1 if n > 0 else -1)
        remaining = abs(n)
        closed_run = 0
        while remaining:
            d += step
            if self.is_business_day(d):
                remaining -= 1
                closed_run = 0
            else:
                closed_run += 1
                if closed_run > _MAX_CLOSED_RUN:
                    raise Invalid(
                        Message(
                            N_("%(self)r has no business day near %(d)s"),
                            {"self": self, "d": d.isoformat()},
                        )
                    )
        return d

    # -- instants ------------------------------------------------------------------------

    def local_date(self, moment: datetime) -> date:
        """The date on the authority's wall clock at ``moment`` (aware)."""
        _require_aware(moment, "moment")
        return moment.astimezone(self.tz).date()

    def start_of_day(self, d: date) -> datetime:
        """The first instant (UTC) of local date ``d``; use it to anchor a date-only field."""
        candidates = []
        for fold in (0, 1):
            # Midnight may be skipped or repeated by DST; keep the earliest instant that is
            # really on date d (fold=0 of a skipped midnight is the transition itself).
            utc = datetime.combine(d, time(0), tzinfo=self.tz).replace(fold=fold).astimezone(UTC)
            if utc.astimezone(self.tz).date() == d:
                candidates.append(utc)
        return min(candidates)

    def end_of_day(self, d: date) -> datetime:
        """The last microsecond (UTC) of local date ``d``: how every day-based deadline ends."""
        return self.start_of_day(d + timedelta(days=1)) - _ONE_US

    def add(self, start: datetime, duration: Duration) -> datetime:
        """Return ``start`` moved by ``duration``, as an aware UTC datetime.

        Requires an aware ``start`` (any zone; ValueError otherwise). Days are counted from the
        local date of ``start`` and land at :meth:`end_of_day`; hours are elapsed time; zero is
        the identity (see the module docstring).
        """
        _require_aware(start, "start")
        start = start.astimezone(UTC)
        if duration.amount == 0:
            return start
        if duration.unit == "hours":
            return start + timedelta(hours=duration.amount)
        day = self.local_date(start)
        if duration.unit == "calendar_days":
            target = day + timedelta(days=duration.amount)
        elif duration.unit == "months":
            target = add_months(day, duration.amount)
        else:
            target = self.step_business_days(day, duration.amount)
        return self.end_of_day(target)

    def business_days_between(self, a: datetime, b: datetime) -> int:
        """Business days after ``a``'s local date up to and including ``b``'s; negative if b<a.

        Inverse of :meth:`add`: ``business_days_between(t, add(t, n business days)) == n``.
        Use it for "3 business days late" and for pauses.
        """
        _require_aware(a, "a")
        _require_aware(b, "b")
        da, db = self.local_date(a), self.local_date(b)
        if db < da:
            return -self.business_days_between(b, a)
        count = 0
        d = da
        while d < db:
            d += timedelta(days=1)
            if self.is_business_day(d):
                count += 1
        return count

    def shift_for_pause(
        self,
        due: datetime,
        paused_from: datetime,
        paused_to: datetime,
        unit: Unit = "business_days",
    ) -> datetime:
        """Extend ``due`` by the time that elapsed between ``paused_from`` and ``paused_to``.

        ``unit`` is the unit of the deadline's duration. Business days: shift by
        :meth:`business_days_between` the two instants. Calendar days: by the number of local
        dates crossed, keeping an end-of-day due at an end of day. Hours: by the exact elapsed
        time. All arguments must be aware and ``paused_to >= paused_from`` (ValueError
        otherwise). Returns an aware UTC datetime, never earlier than ``due``.
        """
        _require_aware(due, "due")
        _require_aware(paused_from, "paused_from")
        _require_aware(paused_to, "paused_to")
        if paused_to < paused_from:
            raise ValueError(f"pause ends ({paused_to}) before it starts ({paused_from})")
        if unit == "hours":
            return due.astimezone(UTC) + (paused_to - paused_from)
        if unit in ("calendar_days", "months"):
            days = (self.local_date(paused_to) - self.local_date(paused_from)).days
            unit = "calendar_days"
        elif unit == "business_days":
            days = self.business_days_between(paused_from, paused_to)
        else:
            raise ValueError(f"unknown unit {unit!r}")
        return self.add(due, Duration(days, unit))

    def due(
        self,
        start: datetime,
        duration: Duration,
        pauses: Iterable[tuple[datetime, datetime]] = (),
    ) -> datetime:
        """Due time of a deadline started at ``start``, extended for each closed pause."""
        result = self.add(start, duration)
        for paused_from, paused_to in pauses:
            result = self.shift_for_pause(result, paused_from, paused_to, duration.unit)
        return result


def add_months(d: date, months: int) -> date:
    """``d`` moved by ``months`` calendar months (negative: back), clamped to the last day of
    the target month: 31 January + 1 month is 28 (or 29) February."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    following = date(year + month // 12, month % 12 + 1, 1)
    last = (following - timedelta(days=1)).day
    return date(year, month, min(d.day, last))


def earliest(*moments: datetime | None) -> datetime | None:
    """The earliest of the given aware datetimes as UTC, ignoring None; None if all are None.

    For "the earlier of the date the requesting state asked for and the authority's target".
    """
    present = []
    for m in moments:
        if m is not None:
            _require_aware(m, "moment")
            # In UTC: Python compares an ambiguous local time with other zones oddly (PEP 495).
            present.append(m.astimezone(UTC))
    return min(present, default=None)
