"""What the in-use readers share: the error they raise and the ways they turn what a
source returns (pages of an AWS listing, lines of text) into `Usage`s.

A source that cannot be read completely must stop deletion in its target
(cleaner.inuse.reader fails closed), so nothing here skips an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cleaner.core.references import Usage, parse_reference


class SourceError(Exception):
    """A source could not be read; the message says why, in one line."""


def paginate(client: Any, operation: str, key: str, **params: Any) -> list[Any]:
    return [
        item for page in client.get_paginator(operation).paginate(**params) for item in page[key]
    ]


def usages(pairs: Iterable[tuple[str, str]], source: str) -> list[Usage]:
    """(reference text, workload) pairs as Usages; a reference that does not parse is
    an error of the whole source."""
    out = []
    for text, workload in pairs:
        try:
            out.append(Usage(parse_reference(text), workload))
        except ValueError as exc:
            raise SourceError(f"{source}: {workload}: {exc}") from None
    return out


def references_in(text: str, source: str) -> list[Usage]:
    """One reference per line; blank lines and `#` comments are ignored. A line may
    hold several references separated by spaces (kubectl's `{..image}` prints them so)."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        for word in line.split("#", 1)[0].split():
            try:
                out.append(Usage(parse_reference(word), f"{source} (line {number})"))
            except ValueError as exc:
                raise SourceError(f"line {number}: {exc}") from None
    return out
