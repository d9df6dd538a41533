"""Crontab expressions fire when cron would fire them (not when APScheduler 3 reads them)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cleaner.config.cron import CronError, day_of_week, trigger_from_crontab

UTC = ZoneInfo("UTC")
# 2027-01-03 is a Sunday.
SUNDAY = datetime(2027, 1, 3, tzinfo=UTC)


def fire_times(expr: str, start: datetime, count: int, tz: str = "UTC") -> list[datetime]:
    trigger = trigger_from_crontab(expr, tz)
    times: list[datetime] = []
    previous = None
    now = start
    for _ in range(count):
        nxt = trigger.get_next_fire_time(previous, now)
        times.append(nxt)
        previous, now = nxt, nxt + timedelta(microseconds=1)
    return times


def test_weekday_zero_is_sunday() -> None:
    times = fire_times("0 3 * * 0", SUNDAY - timedelta(days=3), 3)
    assert [t.strftime("%a %H:%M") for t in times] == ["Sun 03:00"] * 3
    assert times[0] == SUNDAY.replace(hour=3)


def test_weekday_seven_is_sunday_too() -> None:
    assert fire_times("0 3 * * 7", SUNDAY, 1) == fire_times("0 3 * * 0", SUNDAY, 1)


def test_one_to_five_is_monday_to_friday() -> None:
    times = fire_times("0 3 * * 1-5", SUNDAY, 7)
    assert [t.strftime("%a") for t in times] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon", "Tue"]
    assert all(t.hour == 3 and t.minute == 0 for t in times)


def test_every_fifteen_minutes() -> None:
    times = fire_times("*/15 * * * *", SUNDAY + timedelta(minutes=7), 5)
    assert [t.strftime("%H:%M") for t in times] == ["00:15", "00:30", "00:45", "01:00", "01:15"]


def test_timezone_is_the_schedules() -> None:
    (first,) = fire_times("30 2 * * *", SUNDAY, 1, tz="Europe/Berlin")
    assert first.utcoffset() == timedelta(hours=1)
    assert first.astimezone(UTC) == datetime(2027, 1, 3, 1, 30, tzinfo=UTC)


def test_day_of_month_and_weekday_both_restricted_means_either() -> None:
    # crontab: the 1st of the month OR any Friday (APScheduler alone: only Friday the 1st).
    times = fire_times("0 3 1 * fri", datetime(2027, 1, 2, tzinfo=UTC), 4)
    assert [t.date().isoformat() for t in times] == [
        "2027-01-08",
        "2027-01-15",
        "2027-01-22",
        "2027-01-29",
    ]
    (feb,) = fire_times("0 3 1 * fri", datetime(2027, 1, 30, tzinfo=UTC), 1)
    assert feb.date().isoformat() == "2027-02-01"  # a Monday: matched by the 1st


def test_starred_weekday_step_keeps_and_semantics() -> None:
    # "*/2" starts with "*", so cron treats the field as unrestricted for the OR rule.
    times = fire_times("0 3 1 * */2", datetime(2027, 1, 1, tzinfo=UTC), 2)
    assert all(t.day == 1 for t in times)
    assert all(t.strftime("%a") in {"Sun", "Tue", "Thu", "Sat"} for t in times)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("*", "*"),
        ("0", "sun"),
        ("7", "sun"),
        ("0,7", "sun"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("mon-fri", "mon,tue,wed,thu,fri"),
        ("MON,Wed", "mon,wed"),
        ("*/2", "tue,thu,sat,sun"),
        ("1-7/2", "mon,wed,fri,sun"),
        ("5-7", "fri,sat,sun"),
        ("fri-sun", "fri,sat,sun"),
        ("sat,0", "sat,sun"),
        ("0-7", "mon,tue,wed,thu,fri,sat,sun"),
    ],
)
def test_day_of_week_conversion(field: str, expected: str) -> None:
    assert day_of_week(field) == expected


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("0 3 * *", "must have 5 fields (minute hour day-of-month month day-of-week), got 4"),
        ("0 3 * * 8", "day-of-week '8': 8 is not a day (0-7, 0 and 7 are Sunday)"),
        ("0 3 * * 5-1", "day-of-week '5-1': range runs backwards"),
        ("0 3 * * 1/2", "day-of-week '1/2': a step needs a range or *, e.g. 1-7/2"),
        ("0 3 * * 1-5/0", "day-of-week '1-5/0': step must be >= 1"),
        ("0 3 * * L", "day-of-week 'L': not a day (sun, mon, tue, wed, thu, fri, sat or 0-7)"),
        ("0 3 * * mon#2", "day-of-week 'mon#2' is not crontab syntax"),
        ("0 3 last * *", "day-of-month 'last' is not crontab syntax"),
        ("61 3 * * *", "invalid cron expression: minute field '61': must be 0-59"),
        ("0,61 3 * * *", "invalid cron expression: minute field '0,61': must be 0-59 (got 61)"),
        ("0 24 * * *", "invalid cron expression: hour field '24': must be 0-23"),
        ("0 3-25/2 * * *", "invalid cron expression: hour field '3-25/2': must be 0-23 (got 25)"),
        ("0 3 0 * *", "invalid cron expression: day-of-month field '0': must be 1-31"),
        ("0 3 32 * *", "invalid cron expression: day-of-month field '32': must be 1-31"),
        ("0 3 * 13 *", "invalid cron expression: month field '13': must be 1-12"),
        ("*/0 3 * * *", "invalid cron expression: minute field '*/0': Increment must be higher"),
        ("30-10 3 * * *", "invalid cron expression: minute field '30-10': The minimum value in a"),
        ("0 */100 * * *", "invalid cron expression: hour field '*/100': Error validating"),
        ("0 3 * jan-foo *", "invalid cron expression: month field 'jan-foo': Invalid month name"),
        ("0 3 * dec-jan *", "invalid cron expression: month field 'dec-jan': The minimum value"),
    ],
)
def test_invalid_expressions_say_why(expr: str, message: str) -> None:
    with pytest.raises(CronError) as raised:
        trigger_from_crontab(expr, "UTC")
    assert message in str(raised.value)


def test_jitter_is_passed_to_the_trigger() -> None:
    assert trigger_from_crontab("0 3 * * *", "UTC", jitter=30).jitter == 30
    assert trigger_from_crontab("0 3 1 * mon", "UTC", jitter=30).jitter == 30
