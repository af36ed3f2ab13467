"""Business-day arithmetic: weekends, holidays, closures, time zones, DST, negatives, pauses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mla.deadlines.calendar import Calendar, Duration, earliest
from mla.errors import Invalid

MX = Calendar("MX", timezone="America/Mexico_City")  # UTC-6 all year since 2022
AR = Calendar("AR", timezone="America/Argentina/Buenos_Aires")  # UTC-3, no DST
CL = Calendar("CL", timezone="America/Santiago")  # DST changes at local midnight
BR = Calendar("BR", timezone="America/Sao_Paulo")  # DST at midnight until 2019
NY = Calendar("US", "NY", timezone="America/New_York")

BD = "business_days"


def local(cal: Calendar, *args: int) -> datetime:
    return datetime(*args, tzinfo=cal.tz)  # type: ignore[misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def end_utc(y: int, m: int, d: int, hour: int) -> datetime:
    """The instant 1 µs before ``hour``:00 UTC on the given date (an end of a local day)."""
    return utc(y, m, d, hour) - timedelta(microseconds=1)


# -- Duration ------------------------------------------------------------------------------


def test_duration_rejects_unknown_unit() -> None:
    with pytest.raises(Invalid):
        Duration(3, "weeks")  # type: ignore[arg-type]


# -- Calendar construction -----------------------------------------------------------------


def test_unknown_country_falls_back_to_weekends_only() -> None:
    cal = Calendar("XX", timezone="UTC")
    assert not cal.holidays_known
    assert "XX" in (cal.fallback or "")
    assert cal.is_business_day(date(2025, 12, 25))  # no holiday data
    assert not cal.is_business_day(date(2025, 12, 27))  # Saturday


def test_unknown_subdivision_falls_back_to_national_holidays() -> None:
    cal = Calendar("MX", "NOPE", timezone="America/Mexico_City")
    assert not cal.holidays_known and "national" in (cal.fallback or "")
    assert not cal.is_business_day(date(2025, 9, 16))
    assert MX.holidays_known and MX.fallback is None


def test_bad_timezone_and_weekend_are_invalid() -> None:
    with pytest.raises(Invalid) as info:
        Calendar("MX", timezone="America/Atlantis")
    assert info.value.errors[0].field == "timezone"
    with pytest.raises(Invalid):
        Calendar("MX", timezone="UTC", weekend=range(7))


def test_subdivision_holidays_apply() -> None:
    # Election Day is a public holiday in New York State, not nationally.
    monday = local(NY, 2025, 11, 3, 9)
    assert NY.add(monday, Duration(1, BD)) == end_utc(2025, 11, 6, 5)  # end of Wed 5 Nov
    national = Calendar("US", timezone="America/New_York")
    assert national.add(monday, Duration(1, BD)) == end_utc(2025, 11, 5, 5)  # end of Tue 4 Nov


def test_other_weekend() -> None:
    cal = Calendar("XX", timezone="UTC", weekend=(4, 5))  # Friday and Saturday
    thursday = utc(2025, 1, 9, 12)
    assert cal.add(thursday, Duration(1, BD)) == end_utc(2025, 1, 13, 0)  # end of Sunday 12th


# -- business days ---------------------------------------------------------------------------


def test_weekend_is_skipped_and_due_is_end_of_local_day() -> None:
    friday = local(MX, 2025, 1, 10, 10)
    due = MX.add(friday, Duration(1, BD))
    assert due == end_utc(2025, 1, 14, 6)  # end of Monday 13th in Mexico City
    assert due.tzinfo is UTC
    assert due.astimezone(MX.tz).timetz().replace(tzinfo=None) == time(23, 59, 59, 999999)


def test_mexican_independence_day_is_skipped() -> None:
    friday = local(MX, 2025, 9, 12, 17)
    # Mon 15 (1), Tue 16 Sep holiday, Wed 17 (2), Thu 18 (3)
    assert MX.add(friday, Duration(3, BD)) == end_utc(2025, 9, 19, 6)
    assert not MX.is_business_day(date(2025, 9, 16))


def test_argentine_may_revolution_day_is_skipped() -> None:
    friday = local(AR, 2026, 5, 22, 12)
    assert AR.add(friday, Duration(1, BD)) == end_utc(2026, 5, 27, 3)  # Tue 26 (Mon 25 off)


def test_closures_and_year_boundary() -> None:
    cal = Calendar(
        "AR",
        timezone="America/Argentina/Buenos_Aires",
        closures={date(2025, 12, 24), date(2025, 12, 31)},
    )
    tuesday = local(cal, 2025, 12, 23, 10)
    # 24 closed, 25 holiday, Fri 26 (1), Mon 29 (2), Tue 30 (3)
    assert cal.add(tuesday, Duration(3, BD)) == end_utc(2025, 12, 31, 3)
    # then 31 closed, 1 Jan holiday, Fri 2 Jan (4), Mon 5 Jan (5)
    assert cal.add(tuesday, Duration(5, BD)) == end_utc(2026, 1, 6, 3)
    assert AR.add(tuesday, Duration(5, BD)) == end_utc(2026, 1, 1, 3)  # no closures: Wed 31


def test_local_date_not_utc_date_starts_the_count() -> None:
    # 02:00 UTC on Friday is still Thursday evening in Mexico City.
    start = utc(2025, 1, 10, 2)
    assert MX.local_date(start) == date(2025, 1, 9)
    assert MX.add(start, Duration(1, BD)) == end_utc(2025, 1, 11, 6)  # end of Friday local
    # 23:30 UTC on Friday is already Saturday in Madrid: the count starts from Saturday.
    madrid = Calendar("ES", timezone="Europe/Madrid")
    assert madrid.add(utc(2025, 1, 10, 23, 30), Duration(1, BD)) == end_utc(2025, 1, 13, 23)


def test_negative_business_days_count_back_from_the_due_day() -> None:
    due = MX.add(local(MX, 2025, 9, 12, 17), Duration(3, BD))  # end of Thu 18 Sep
    # two business days before the end of Thursday 18: Wed 17 (1), Tue 16 holiday, Mon 15 (2)
    assert MX.add(due, Duration(-2, BD)) == end_utc(2025, 9, 16, 6)
    # escalation after the due: Fri 19, Mon 22, Tue 23, Wed 24, Thu 25
    assert MX.add(due, Duration(5, BD)) == end_utc(2025, 9, 26, 6)
    assert MX.add(due, Duration(0, "hours")) == due


def test_zero_is_identity_in_every_unit() -> None:
    # 23:30 on 6 Apr 2024 happened twice in Santiago. Python never calls an ambiguous local
    # time equal to an instant in another zone (PEP 495), one more reason to keep UTC.
    start = local(CL, 2024, 4, 6, 23, 30)
    for unit in ("business_days", "calendar_days", "hours"):
        assert CL.add(start, Duration(0, unit)) == start.astimezone(UTC)  # type: ignore[arg-type]


def test_business_days_between() -> None:
    friday = local(MX, 2025, 9, 12, 17)
    thursday = local(MX, 2025, 9, 18, 9)
    assert MX.business_days_between(friday, thursday) == 3
    assert MX.business_days_between(thursday, friday) == -3
    assert MX.business_days_between(friday, friday + timedelta(hours=2)) == 0


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        MX.add(datetime(2025, 1, 1, 12), Duration(1, BD))


# -- DST ----------------------------------------------------------------------------------------


def test_santiago_fall_back_at_midnight_repeats_the_last_hour_of_saturday() -> None:
    # 2024-04-07 00:00 -03 became 2024-04-06 23:00 -04: Saturday has 25 hours.
    friday = local(CL, 2024, 4, 5, 12)
    due = CL.add(friday, Duration(1, "calendar_days"))
    assert due == end_utc(2024, 4, 7, 4)  # the second 23:59:59.999999, at -04
    assert due.astimezone(CL.tz).utcoffset() == timedelta(hours=-4)
    assert CL.local_date(due) == date(2024, 4, 6)
    assert CL.local_date(due + timedelta(microseconds=1)) == date(2024, 4, 7)


def test_santiago_spring_forward_skips_midnight() -> None:
    # 2024-09-08 00:00 -04 became 01:00 -03: Sunday starts at 01:00 local.
    start = CL.start_of_day(date(2024, 9, 8))
    assert start == utc(2024, 9, 8, 4)
    assert start.astimezone(CL.tz).hour == 1
    assert CL.end_of_day(date(2024, 9, 7)) == end_utc(2024, 9, 8, 4)
    # Chile's national holidays 18-20 Sep 2024: Tuesday + 1 business day is Monday 23 (-03).
    assert CL.add(local(CL, 2024, 9, 17, 10), Duration(1, BD)) == end_utc(2024, 9, 24, 3)


def test_sao_paulo_historical_dst() -> None:
    # DST began 2018-11-04 00:00 -03 -> 01:00 -02; 2 Nov was All Souls' Day.
    thursday = local(BR, 2018, 11, 1, 10)
    assert BR.add(thursday, Duration(1, BD)) == end_utc(2018, 11, 6, 2)  # Mon 5 Nov at -02
    assert BR.start_of_day(date(2018, 11, 4)) == utc(2018, 11, 4, 3)
    # DST ended 2019-02-17 00:00 -02 -> 2019-02-16 23:00 -03.
    assert BR.end_of_day(date(2019, 2, 16)) == end_utc(2019, 2, 17, 3)


def test_new_york_hours_are_elapsed_time_and_days_are_wall_days() -> None:
    saturday_noon = local(NY, 2025, 3, 8, 12)  # EST
    later = NY.add(saturday_noon, Duration(24, "hours"))
    assert later == utc(2025, 3, 9, 17)
    assert later.astimezone(NY.tz).hour == 13  # the clocks moved forward overnight
    friday = local(NY, 2025, 3, 7, 15)
    assert NY.add(friday, Duration(1, BD)) == end_utc(2025, 3, 11, 4)  # Monday, now EDT
    autumn = local(NY, 2025, 11, 1, 10)  # EDT
    assert NY.add(autumn, Duration(1, "calendar_days")) == end_utc(2025, 11, 3, 5)  # EST


# -- pauses ---------------------------------------------------------------------------------


def test_pause_extends_by_business_days_elapsed() -> None:
    start = local(AR, 2026, 5, 18, 9)
    ten = Duration(10, BD)
    due = AR.add(start, ten)
    assert due == end_utc(2026, 6, 3, 3)  # Tue 2 Jun (25 May is a holiday)
    # Information requested Wed 20 at 15:00, answered Fri 22 at 11:00: Thu and Fri lost.
    paused = (local(AR, 2026, 5, 20, 15), local(AR, 2026, 5, 22, 11))
    shifted = AR.shift_for_pause(due, *paused)
    assert shifted == end_utc(2026, 6, 5, 3)  # Thu 4 Jun
    # Same as restarting the remaining 8 days (10 minus Tue and Wed used) on resumption.
    assert shifted == AR.add(paused[1], Duration(8, BD))
    assert AR.due(start, ten, [paused]) == shifted


def test_pause_within_a_day_or_over_a_holiday() -> None:
    due = AR.add(local(AR, 2026, 5, 18, 9), Duration(10, BD))
    same_day = (local(AR, 2026, 5, 20, 9), local(AR, 2026, 5, 20, 17))
    assert AR.shift_for_pause(due, *same_day) == due
    # Fri 22 -> Tue 26 crosses the weekend and 25 May: one business day (Tue 26).
    long_weekend = (local(AR, 2026, 5, 22, 10), local(AR, 2026, 5, 26, 10))
    assert AR.shift_for_pause(due, *long_weekend) == AR.add(due, Duration(1, BD))


def test_several_pauses_add_up_in_any_order() -> None:
    start = local(MX, 2025, 1, 6, 9)
    first = (local(MX, 2025, 1, 7, 9), local(MX, 2025, 1, 9, 9))  # 2 business days
    second = (local(MX, 2025, 1, 20, 9), local(MX, 2025, 1, 27, 9))  # 5 business days
    thirty = Duration(30, BD)
    expected = MX.add(MX.add(start, thirty), Duration(7, BD))
    assert MX.due(start, thirty, [first, second]) == expected
    assert MX.due(start, thirty, [second, first]) == expected


def test_pause_in_calendar_days_and_hours() -> None:
    start = local(CL, 2024, 3, 1, 10)
    due = CL.add(start, Duration(60, "calendar_days"))
    assert due == CL.end_of_day(date(2024, 4, 30))
    pause = (local(CL, 2024, 3, 10, 22), local(CL, 2024, 3, 13, 8))  # crosses 3 local dates
    assert CL.shift_for_pause(due, *pause, unit="calendar_days") == CL.end_of_day(date(2024, 5, 3))
    hours_due = CL.add(start, Duration(24, "hours"))
    assert CL.shift_for_pause(hours_due, *pause, unit="hours") == hours_due + (pause[1] - pause[0])


def test_reversed_pause_is_refused() -> None:
    a, b = local(MX, 2025, 1, 7, 9), local(MX, 2025, 1, 9, 9)
    with pytest.raises(ValueError, match="before it starts"):
        MX.shift_for_pause(b, b, a)


def test_earliest() -> None:
    asked_for = datetime(2025, 3, 1, tzinfo=ZoneInfo("Europe/Madrid"))  # 2025-02-28T23:00Z
    target = utc(2025, 2, 28, 23, 30)
    assert earliest(target, None, asked_for) == asked_for
    assert earliest(target, None, asked_for).tzinfo is UTC  # type: ignore[union-attr]
    assert earliest(None, None) is None


# -- properties ---------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    cal=st.sampled_from([MX, AR, CL, BR, NY]),
    start=st.datetimes(min_value=datetime(2017, 1, 1), max_value=datetime(2027, 12, 31)),
    n=st.integers(min_value=1, max_value=90),
)
def test_business_day_due_is_end_of_a_business_day(cal: Calendar, start: datetime, n: int) -> None:
    start = start.replace(tzinfo=UTC)
    due = cal.add(start, Duration(n, BD))
    day = cal.local_date(due)
    assert cal.is_business_day(day)
    assert due + timedelta(microseconds=1) == cal.start_of_day(day + timedelta(days=1))
    assert cal.business_days_between(start, due) == n
    assert cal.add(due, Duration(-n, BD)) <= cal.end_of_day(cal.local_date(start))


@pytest.mark.parametrize(
    ("start", "months", "target"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),  # clamped to the month's end
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # a leap year
        (date(2026, 3, 15), 2, date(2026, 5, 15)),  # "two months" (a treaty's figure)
        (date(2026, 11, 30), 3, date(2027, 2, 28)),  # across the year
        (date(2026, 3, 31), -1, date(2026, 2, 28)),  # backwards, for reminders
    ],
)
def test_months_are_calendar_months_clamped_to_the_month_end(
    start: date, months: int, target: date
) -> None:
    cal = Calendar("MX", timezone="America/Mexico_City")
    moment = cal.start_of_day(start) + timedelta(hours=10)
    assert cal.add(moment, Duration(months, "months")) == cal.end_of_day(target)


def test_hours_count_elapsed_time_and_pauses_shift_months_by_days() -> None:
    cal = Calendar("MX", timezone="America/Mexico_City")
    start = datetime(2026, 3, 2, 15, tzinfo=UTC)
    assert cal.add(start, Duration(24, "hours")) == start + timedelta(hours=24)
    due = cal.add(start, Duration(2, "months"))
    paused = cal.shift_for_pause(due, start, start + timedelta(days=3), "months")
    assert paused == cal.end_of_day(date(2026, 5, 5))
