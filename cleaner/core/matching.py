"""Tag patterns as one predicate each, made once per policy: planning tests every tag of
every image against them, and most globs (`latest`, `feature-*`, `*`) need no regex.

A shortcut is taken only where it provably agrees with the pattern's compiled regex:
when that regex is exactly what `fnmatch` makes of a glob whose only wildcard is a
trailing `*` (`*?[` are fnmatch's only special characters).
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Callable, Sequence

from cleaner.config.model import TagPattern

TagTest = Callable[[str], bool]
_WILDCARDS = frozenset("*?[")


def _always(tag: str) -> bool:
    return True


def _predicate(pattern: TagPattern) -> TagTest:
    source = pattern.source
    literal = source.removesuffix("*")
    if _WILDCARDS.isdisjoint(literal) and pattern.regex.pattern == fnmatch.translate(source):
        if literal == source:
            return literal.__eq__
        if not literal:
            return _always
        return lambda tag: tag.startswith(literal)
    fullmatch = pattern.regex.fullmatch
    return lambda tag: fullmatch(tag) is not None


@functools.lru_cache(maxsize=1024)  # a policy has a handful of pattern lists
def tag_test(patterns: Sequence[TagPattern]) -> TagTest:
    """Whether a tag matches any of `patterns` (a tuple: it is a cache key)."""
    tests = [_predicate(p) for p in patterns]
    if len(tests) == 1:
        return tests[0]
    return lambda tag: any(test(tag) for test in tests)
