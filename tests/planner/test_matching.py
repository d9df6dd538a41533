"""Tag patterns as predicates (core/matching.py) agree with the patterns' own regexes,
including where a shortcut replaces the regex (plain globs)."""

from __future__ import annotations

import re

import pytest

from cleaner.config.model import TagPattern
from cleaner.core.matching import tag_test

PATTERNS = [
    "latest", "feature-*", "*", "v?.*", "[ab]*", "a*b", "**", "x\\*", "re:v\\d+", "re:.*",
    "re:(a|b)c", "rc-[!0-9]*", "release.1", "f[*]",
]  # fmt: skip
TAGS = [
    "", "latest", "Latest", "latest\n", "latest-1", "feature-", "feature-a-1", "xfeature-a",
    "feature-\n", "v1.2", "vx.y", "ab", "a", "acb", "x\\", "x\\*", "v12", "bc", "rc-a",
    "rc-1", "release.1", "releasex1", "f*", "fx",
]  # fmt: skip


@pytest.mark.parametrize("source", PATTERNS)
def test_a_predicate_says_what_the_regex_says(source: str) -> None:
    pattern = TagPattern.parse(source)
    matches = tag_test((pattern,))
    assert [t for t in TAGS if matches(t)] == [t for t in TAGS if pattern.matches(t)]


def test_a_pattern_made_by_hand_keeps_its_own_regex() -> None:
    # The source reads like a plain glob, the regex says otherwise: the regex decides.
    odd = TagPattern("latest", re.compile("lat.*"))
    assert tag_test((odd,))("lateral")


@pytest.mark.parametrize(
    ("sources", "tag", "expected"),
    [
        (["latest", "feature-*"], "feature-x", True),
        (["latest", "feature-*"], "latest", True),
        (["latest", "feature-*"], "main", False),
        (["re:v\\d+", "main"], "v2", True),
    ],
)
def test_several_patterns_match_when_any_does(sources: list[str], tag: str, expected: bool) -> None:
    assert tag_test(tuple(TagPattern.parse(s) for s in sources))(tag) is expected
