"""What the rules and protections decided about each top-level image, and the one reason
that explains what goes (the planner's working state; docs/semantics.md). Pure."""

from __future__ import annotations

from typing import NamedTuple

from cleaner.core.model import Image
from cleaner.core.rules import Decision


class Ruling(NamedTuple):
    """One rule's decision about one tag (or untagged image). A tuple: one is made for
    every selected tag."""

    rank: int  # the rule's position: lower is higher priority
    rule: str
    decision: Decision
    archive: bool = False  # the rule archives what it expires whole, instead of deleting


Gone = list[tuple[str | None, Ruling]]  # (tag, or None for the image itself), its ruling
_NONE: frozenset[str] = frozenset()


class Fate:
    """What the rules and protections decided about one top-level image."""

    __slots__ = (
        "archived",
        "doomed",
        "gone",
        "image",
        "protected_tags",
        "protections",
        "selected",
        "tags",
        "untagged",
        "untouchable",
        "whole",
    )

    def __init__(self, image: Image, *, whole: bool) -> None:
        self.image = image
        self.tags: dict[str, Ruling] = {}  # selected tag -> ruling
        self.untagged: Ruling | None = None
        self.selected = False  # `tags` or `untagged` is set (asked often: kept, not derived)
        self.protections: list[str] = []
        self.protected_tags = _NONE
        self.untouchable = False  # no tag removed, not deleted
        # Decided as a whole image (ECR lifecycle): a protected tag keeps it.
        self.whole = whole
        # What really goes, settled once protections are known (see `protect`).
        self.gone: Gone = []
        self.doomed = False
        # Doomed, and archived rather than deleted: the reversible choice wins when the
        # rules that expired it disagree.
        self.archived = False

    def protect(self, reasons: list[str], tags: frozenset[str], untouchable: bool) -> None:
        """Apply protections, then settle what goes."""
        self.protections.extend(reasons)
        if tags:
            self.protected_tags = self.protected_tags | tags
        self.untouchable = self.untouchable or untouchable or (self.whole and bool(tags))
        self.settle()

    def settle(self) -> None:
        """Settle what goes under the protections so far (planning asks for it often)."""
        self.gone = gone = self.expiries()
        if not gone:
            self.doomed = self.archived = False
            return
        names = {tag for tag, _ in gone}
        self.doomed = (None in names) if not self.image.tags else names >= set(self.image.tags)
        self.archived = self.doomed and any(r.archive for _, r in gone)

    def expiries(self) -> Gone:
        """The expired items that will really go: (tag, or None for the image itself)."""
        if self.untouchable or not self.selected:
            return []
        items = self.tags.items()
        protected = self.protected_tags
        found: Gone = [
            (tag, r)
            for tag, r in (items if len(self.tags) < 2 else sorted(items))
            if r.decision.expired and tag not in protected
        ]
        if self.untagged is not None and self.untagged.decision.expired:
            found.append((None, self.untagged))
        return found


def explain(gone: Gone) -> tuple[str, str]:
    """The highest-priority rule behind these removals, and one reason covering them all."""
    if len(gone) == 1:
        ruling = gone[0][1]
        return ruling.rule, ruling.decision.reason
    first = min(r.rank for _, r in gone)
    by_reason: dict[tuple[int, str, str], list[str]] = {}
    for tag, r in gone:
        by_reason.setdefault((r.rank, r.rule, r.decision.reason), []).append(tag or "untagged")
    rule = next(r.rule for _, r in gone if r.rank == first)
    if len(by_reason) == 1:
        return rule, next(iter(by_reason))[2]
    parts = [
        f"{', '.join(tags)}: {reason}" + ("" if name == rule else f" (rule {name})")
        for (_, name, reason), tags in sorted(by_reason.items())
    ]
    return rule, "; ".join(parts)
