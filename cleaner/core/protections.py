"""The protections that hold for any image, top-level or not
(docs/semantics.md#protections)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from cleaner.config.model import Protect
from cleaner.core.matching import tag_test
from cleaner.core.model import Image
from cleaner.core.rules import age, duration


class Guard:
    """The protections that hold for any image, top-level or not."""

    __slots__ = ("_protected", "in_use", "now", "protect")

    def __init__(self, protect: Protect, in_use: Mapping[str, str], now: datetime) -> None:
        self.protect = protect
        self.in_use = in_use
        self.now = now
        self._protected = tag_test(protect.tags) if protect.tags else None

    def untouchable(self, image: Image) -> list[str]:
        reasons = []
        if image.digest in self.in_use:
            reasons.append(f"in use by {self.in_use[image.digest]}")
        window = self.protect.pulled_within
        if window is not None and image.last_pulled is not None:
            since = self.now - image.last_pulled
            if since <= window:
                reasons.append(
                    f"pulled {age(since)} ago (protect.pulled_within {duration(window)})"
                )
        return reasons

    def protected_tags(self, image: Image) -> list[str]:
        protected, tags = self._protected, image.tags
        if protected is None or not tags:
            return []
        return [t for t in (tags if len(tags) == 1 else sorted(set(tags))) if protected(t)]

    def reasons(self, image: Image) -> list[str]:
        return self.untouchable(image) + [f"protected tag {t}" for t in self.protected_tags(image)]

    def shields(self, image: Image) -> bool:
        """Whether any protection holds for `image`: `reasons` is not empty."""
        if image.digest in self.in_use:
            return True
        window, pulled = self.protect.pulled_within, image.last_pulled
        if window is not None and pulled is not None and self.now - pulled <= window:
            return True
        protected, tags = self._protected, image.tags
        if protected is None or not tags:
            return False
        return protected(tags[0]) if len(tags) == 1 else any(protected(t) for t in tags)
