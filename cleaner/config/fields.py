"""Checkers for the value kinds of the policy file, each with the JSON Schema it stands for.

Each checker records what is wrong under the value's place (`targets[0].region`) and
returns None instead of raising, so a single pass over the file reports every error.
A `Check` pairs a checker with the JSON Schema of what it accepts: validation runs the
one, `cleaner.config.schema` writes the other, from the same object.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

from cleaner.config.model import REGEX_PREFIX, NamePatterns, TagPattern

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")
# A JSON Schema in which a Check may stand for its own schema (expanded by SchemaWriter).
JSON = dict[str, Any]

DURATION_HELP = "must be a duration: an integer and a unit s, m, h, d or w, like 14d"
_DURATION = re.compile(r"([0-9]+)([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
STRING_SCHEMA: JSON = {"type": "string", "minLength": 1}


def parse_duration(text: str) -> timedelta:
    """`90m`, `36h`, `14d`, `2w` as a timedelta.

    The ValueError's message reads as a predicate (`must be > 0 (got '0d')`) so that
    callers can put the setting's name in front of it.
    """
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"{DURATION_HELP} (got {text!r})")
    amount = int(match[1])
    if amount == 0:
        raise ValueError(f"must be > 0 (got {text!r})")
    try:
        return timedelta(**{_UNITS[match[2]]: amount})
    except OverflowError:
        raise ValueError(f"is too long (got {text!r})") from None


def key(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def item(path: str, index: int) -> str:
    return f"{path}[{index}]"


@dataclass(frozen=True, slots=True)
class Problem:
    """One error: its place in the file's data (`targets[0].region`) and what is wrong.
    `at_key`: the key itself is wrong (unknown), so that is where the file shows it."""

    path: str
    message: str
    at_key: bool = False

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class Issues:
    """The errors found so far, in the order they were found."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    @property
    def errors(self) -> list[str]:
        """Each error as `place: message`."""
        return [str(p) for p in self.problems]

    def add(self, path: str, message: str, *, at_key: bool = False) -> None:
        self.problems.append(Problem(path, message, at_key))


class Check(Generic[T]):
    """A checker and the JSON Schema of the values it accepts.

    `run(issues, path, value)` returns the parsed value, or None after recording what
    is wrong. `schema` is a JSON Schema whose values may be other Checks (they stand
    for their own schemas), or a function that builds one when the schema is written
    (for shapes known only then, like the registered in-use source kinds). With a
    `name`, the schema is written once under `$defs` and every use refers to it.
    """

    __slots__ = ("name", "run", "schema")

    def __init__(
        self,
        run: Callable[[Issues, str, object], T | None],
        schema: JSON | Callable[[], JSON],
        *,
        name: str | None = None,
    ) -> None:
        self.run = run
        self.schema = schema
        self.name = name

    def __call__(self, issues: Issues, path: str, value: object) -> T | None:
        return self.run(issues, path, value)


def describe(value: object) -> str:
    """A value as the operator wrote it in YAML, for the `(got ...)` part of a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    return f"a {type(value).__name__}"


def _got(value: object) -> str:
    # YAML turns unquoted `no`, `1.10` or `2024-01-01` into other types; say how to keep
    # the text.
    if isinstance(value, bool | int | float | date):
        return f"got {describe(value)}; quote it to make it a string"
    return f"got {describe(value)}"


def _string(issues: Issues, path: str, value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        issues.add(path, f"must be a non-empty string ({_got(value)})")
        return None
    return value


string = Check(_string, STRING_SCHEMA)


def integer(issues: Issues, path: str, value: object, minimum: int) -> int | None:
    # bool is an int subclass in Python; `keep_at_least: yes` is not a number.
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        issues.add(path, f"must be an integer >= {minimum} (got {describe(value)})")
        return None
    return value


def at_least(minimum: int) -> Check[int]:
    return Check(
        lambda issues, path, value: integer(issues, path, value, minimum),
        {"type": "integer", "minimum": minimum},
    )


def choice(issues: Issues, path: str, value: object, enum: type[E]) -> E | None:
    names = [member.value for member in enum]
    if not isinstance(value, str) or value not in names:
        issues.add(path, f"must be one of: {', '.join(names)} (got {describe(value)})")
        return None
    return enum(value)


def one_of(enum: type[E]) -> Check[E]:
    return Check(
        lambda issues, path, value: choice(issues, path, value, enum),
        {"enum": [member.value for member in enum]},
    )


def _duration(issues: Issues, path: str, value: object) -> timedelta | None:
    if not isinstance(value, str):
        issues.add(path, f"{DURATION_HELP} (got {describe(value)})")
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        issues.add(path, str(exc))
        return None


duration = Check(
    _duration,
    {
        "type": "string",
        # What parse_duration accepts short of overflow: an amount > 0 and a unit.
        "pattern": f"^0*[1-9][0-9]*[{''.join(_UNITS)}]$",
        "description": "An integer > 0 and a unit: s, m, h, d or w (90m, 36h, 14d, 2w).",
    },
    name="duration",
)


def non_empty_list(issues: Issues, path: str, value: object, what: str) -> list[object] | None:
    if not isinstance(value, list) or not value:
        issues.add(path, f"must be a non-empty list of {what} (got {describe(value)})")
        return None
    return value


def strings(issues: Issues, path: str, value: object, what: str) -> list[str] | None:
    """A non-empty list of non-empty strings; None if the list or any item is wrong."""
    items = non_empty_list(issues, path, value, what)
    if items is None:
        return None
    checked = [string(issues, item(path, i), v) for i, v in enumerate(items)]
    return [s for s in checked if s is not None] if None not in checked else None


def _globs(issues: Issues, path: str, value: object) -> NamePatterns | None:
    patterns = strings(issues, path, value, "repository globs")
    if patterns is None:
        return None
    bad = [i for i, p in enumerate(patterns) if p == "!"]
    for i in bad:
        issues.add(item(path, i), "'!' must be followed by the glob to exclude")
    return NamePatterns.parse(patterns) if not bad else None


globs = Check(
    _globs,
    {
        "type": "array",
        "minItems": 1,
        "items": {**STRING_SCHEMA, "not": {"const": "!"}},
        "description": "Globs on repository names; a glob starting with ! excludes what"
        ' it matches. Default ["*"].',
    },
    name="repositoryGlobs",
)


def regex(issues: Issues, path: str, text: str) -> re.Pattern[str] | None:
    try:
        return re.compile(text)
    except re.error as exc:
        issues.add(path, f"invalid regex: {exc}")
        return None


def _tag_pattern(issues: Issues, path: str, value: object) -> TagPattern | None:
    text = string(issues, path, value)
    if text is None:
        return None
    if text == REGEX_PREFIX:
        issues.add(path, f"needs a regex after {REGEX_PREFIX!r}")
        return None
    is_regex = text.startswith(REGEX_PREFIX)
    if is_regex and regex(issues, path, text.removeprefix(REGEX_PREFIX)) is None:
        return None
    return TagPattern.parse(text)


tag_pattern = Check(
    _tag_pattern,
    {
        **STRING_SCHEMA,
        "description": "A glob on the whole tag (*, ?, [...], case-sensitive), or"
        f" {REGEX_PREFIX} and a Python regular expression that must match the whole tag.",
    },
    name="tagPattern",
)


def tag_patterns(
    issues: Issues, path: str, value: object, *, allow_empty: bool
) -> tuple[TagPattern, ...] | None:
    if allow_empty and value == []:
        return ()
    items = non_empty_list(issues, path, value, "tag patterns")
    if items is None:
        return None
    parsed = [tag_pattern(issues, item(path, i), v) for i, v in enumerate(items)]
    unique = {p.source: p for p in parsed if p is not None}
    return tuple(unique.values()) if None not in parsed else None


def tag_list(*, allow_empty: bool) -> Check[tuple[TagPattern, ...]]:
    size: JSON = {} if allow_empty else {"minItems": 1}
    return Check(
        lambda issues, path, value: tag_patterns(issues, path, value, allow_empty=allow_empty),
        {"type": "array", **size, "items": tag_pattern},
    )


def _group_by(issues: Issues, path: str, value: object) -> TagPattern | None:
    """Always a regex: the `re:` prefix is optional, and `source` keeps what was written."""
    text = string(issues, path, value)
    if text is None:
        return None
    compiled = regex(issues, path, text.removeprefix(REGEX_PREFIX))
    return TagPattern(text, compiled) if compiled is not None else None


group_by = Check(_group_by, STRING_SCHEMA)


def matching(pattern: re.Pattern[str], shape: str) -> Check[str]:
    """A string that `pattern` matches whole; else `must be {shape} (got ...)`."""

    def check(issues: Issues, path: str, value: object) -> str | None:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            issues.add(path, f"must be {shape} (got {describe(value)})")
            return None
        return value

    # JSON Schema patterns may match anywhere: anchor it as fullmatch is.
    return Check(check, {"type": "string", "pattern": f"^{pattern.pattern}$"})
