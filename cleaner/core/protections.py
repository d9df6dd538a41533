"""The protections that hold for any image, top-level or not
(docs/semantics.md#protections)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cleaner.config.model import Protect
from cleaner.core.model import Image
from cleaner.core.rules import age, duration


@dataclass(frozen=True, slots=True)
class Guard:
    """The protections that hold for any image, top-level or not."""

    protect: Protect
    in_use: Mapping[str, str]
    now: datetime

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
        if not self.protect.tags or not image.tags:
            return []
        tags = image.tags if len(image.tags) == 1 else sorted(set(image.tags))
        return [t for t in tags if any(p.matches(t) for p in self.protect.tags)]

    def reasons(self, image: Image) -> list[str]:
        return self.untouchable(image) + [f"protected tag {t}" for t in self.protected_tags(image)]
