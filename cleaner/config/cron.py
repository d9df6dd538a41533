"""Crontab expressions as APScheduler 3 triggers, with crontab's meaning.

APScheduler 3's own `CronTrigger.from_crontab` differs from cron in two ways that
would move a cleaning run to another day without any error:

- it counts day-of-week 0 as Monday, where crontab counts 0 (and 7) as Sunday;
- when both day-of-month and day-of-week are restricted (`0 3 1 * mon`), cron runs on
  days matching EITHER field, APScheduler only on days matching BOTH.

`trigger_from_crontab` reads the expression the way cron does and builds the trigger
that fires at the same times. Config validation and `serve` both use it, so a
schedule that validates is the schedule that runs.
"""

from __future__ import annotations

import re
from datetime import tzinfo

from apscheduler.triggers.base import BaseTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.combining import OrTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]

LAYOUT = "minute hour day-of-month month day-of-week"
# Crontab order (Sunday = 0 = 7) and APScheduler's names for the same days.
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NUMERIC = re.compile(r"[0-9*,/-]+")
_MONTH = re.compile(r"[0-9a-z*,/-]+")
_DOW_ITEM = re.compile(r"(?P<range>\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/(?P<step>[0-9]+))?")
_NUMBER = re.compile(r"[0-9]+")
# crontab's name of each field before day-of-week, APScheduler's, and cron's range.
_FIELDS = (
    ("minute", "minute", 0, 59),
    ("hour", "hour", 0, 23),
    ("day-of-month", "day", 1, 31),
    ("month", "month", 1, 12),
)


class CronError(ValueError):
    """The expression is not a valid 5-field crontab; the message says why."""


def trigger_from_crontab(
    expr: str, timezone: str | tzinfo = "UTC", *, jitter: int | None = None
) -> BaseTrigger:
    """A trigger firing when cron would fire `expr` in `timezone`.

    `jitter` (seconds) delays each run by a random amount up to that, so that many
    cleaners with the same schedule do not hit ECR in the same second.
    """
    fields = expr.split()
    if len(fields) != 5:
        raise CronError(f"must have 5 fields ({LAYOUT}), got {len(fields)}")
    minute, hour, day, month = (f.lower() for f in fields[:4])
    dow = fields[4]
    for (name, option, low, high), value in zip(_FIELDS, (minute, hour, day, month), strict=True):
        if not (_MONTH if name == "month" else _NUMERIC).fullmatch(value):
            raise CronError(f"invalid cron expression: {name} {value!r} is not crontab syntax")
        _check_field(name, option, value, low, high)
    weekdays = day_of_week(dow)
    dow = dow.lower()

    def cron(day_field: str, dow_field: str, jitter: int | None) -> BaseTrigger:
        try:
            return CronTrigger(
                minute=minute,
                hour=hour,
                day=day_field,
                month=month,
                day_of_week=dow_field,
                timezone=timezone,
                jitter=jitter,
            )
        except ValueError as exc:
            raise CronError(f"invalid cron expression: {exc}") from None

    # cron's rule (vixie and its descendants): a field is "restricted" unless it starts
    # with "*"; with both restricted, a day matching either one runs.
    if not day.startswith("*") and not dow.startswith("*"):
        return OrTrigger([cron(day, "*", None), cron("*", weekdays, None)], jitter=jitter)
    return cron(day, weekdays, jitter)


def _check_field(name: str, option: str, value: str, low: int, high: int) -> None:
    """Name the field that is wrong: APScheduler's own message names only the value."""
    for item in value.split(","):
        for number in _NUMBER.findall(item.partition("/")[0]):  # a step is no value
            if not low <= int(number) <= high:
                got = "" if number == value else f" (got {number})"
                raise CronError(
                    f"invalid cron expression: {name} field {value!r}: must be {low}-{high}{got}"
                )
    try:
        CronTrigger(**{option: value})
    except ValueError as exc:
        raise CronError(f"invalid cron expression: {name} field {value!r}: {exc}") from None


def day_of_week(field: str) -> str:
    """A crontab day-of-week field (0-7 with 0 and 7 Sunday, names, ranges, lists,
    steps) as an APScheduler day_of_week made of names only, which it cannot misread."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.split(","):
        match = _DOW_ITEM.fullmatch(item.lower())
        if match is None:
            raise CronError(f"invalid cron expression: day-of-week {item!r} is not crontab syntax")
        start, end = _dow_range(match["range"], item)
        step = int(match["step"] or 1)
        if step < 1:
            raise CronError(f"invalid cron expression: day-of-week {item!r}: step must be >= 1")
        days.update(n % 7 for n in range(start, end + 1, step))
    # Monday first, like APScheduler's own rendering of the field.
    return ",".join(DAY_NAMES[n] for n in sorted(days, key=lambda n: (n - 1) % 7))


def _dow_range(text: str, item: str) -> tuple[int, int]:
    if text == "*":
        return 0, 6
    low, _, high = text.partition("-")
    if not high:
        if "/" in item:
            raise CronError(
                f"invalid cron expression: day-of-week {item!r}: a step needs a range "
                f"or *, e.g. 1-7/2"
            )
        value = _dow_value(low, item)
        return value, value
    start, end = _dow_value(low, item), _dow_value(high, item)
    if end == 0 and high == "sun":
        end = 7  # `fri-sun`: a name ending a range means the Sunday after
    if start > end:
        raise CronError(f"invalid cron expression: day-of-week {item!r}: range runs backwards")
    return start, end


def _dow_value(text: str, item: str) -> int:
    if text.isdigit():
        value = int(text)
        if value > 7:
            raise CronError(
                f"invalid cron expression: day-of-week {item!r}: {value} is not a day "
                f"(0-7, 0 and 7 are Sunday)"
            )
        return value
    if text in DAY_NAMES:
        return DAY_NAMES.index(text)
    raise CronError(
        f"invalid cron expression: day-of-week {item!r}: not a day ({', '.join(DAY_NAMES)} or 0-7)"
    )
