"""Semantic versions in tags, for `keep.order_by: semver` (docs/policy.md#rules). Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_PRERELEASE_ID = r"(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
_SEMVER = re.compile(
    r"v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    rf"(?:-({_PRERELEASE_ID}(?:\.{_PRERELEASE_ID})*))?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?",
    re.ASCII,  # \d must not match other scripts' digits: int() would accept them
)


@dataclass(frozen=True, slots=True)
class Descending:
    """Inverts the order of a sort key, so the highest version sorts first."""

    value: tuple[Any, ...]

    def __lt__(self, other: Descending) -> bool:
        return self.value > other.value


def semver_key(tag: str) -> tuple[Any, ...] | None:
    """Semantic-version precedence of a tag (`v` prefix allowed), None if it is no version.

    Build metadata does not count; a prerelease sorts before its release; prerelease
    identifiers compare numerically when numeric, and numeric before alphanumeric.
    """
    match = _SEMVER.fullmatch(tag)
    if match is None:
        return None
    major, minor, patch, pre = match.groups()
    if pre is None:
        pre_key: tuple[Any, ...] = (1,)
    else:
        pre_key = (
            0,
            tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")),
        )
    return (int(major), int(minor), int(patch), pre_key)
