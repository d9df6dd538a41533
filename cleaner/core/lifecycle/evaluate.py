"""ECR's lifecycle policy evaluation, as ECR documents it, over a list of images.

- All rules are evaluated at once; each marks images by its own count over EVERY image
  its selection matches, including images higher-priority rules selected.
- Rules are then applied by rulePriority, lowest first. An image whose tags match a rule's
  selection can never be acted on by a lower-priority rule, so each image is decided by
  the first rule that selects it: acted on if that rule marked it, kept otherwise.
- Selection: `tagged` with a prefix or pattern list (every entry must match some tag of
  the image; patterns are anchored, `*` matches any run of characters, even none, and
  nothing else is special; case-sensitive), `untagged`, or `any`; rules see only images
  of their `storageClass` (standard unless said otherwise).
- `imageCountMoreThan N`: the N most recently pushed are kept, the rest marked.
  `sinceImagePushed` / `sinceImagePulled` (last pull, or push if never pulled) /
  `sinceImageTransitioned` (time in archive): marked when more than N days ago.

Pure: `now` is passed in. Ties in push time are broken by digest (the lower digest counts
as the newer), as the planner breaks them, since ECR does not say.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from operator import attrgetter

from cleaner.config.lifecycle_model import (
    CountType,
    LifecyclePolicy,
    LifecycleRule,
    LifecycleTagStatus,
    StorageClass,
)
from cleaner.core.model import Image
from cleaner.core.rules import age


@dataclass(frozen=True, slots=True)
class EcrVerdict:
    """ECR's decision about one image: the first rule (by priority) whose selection
    matches it, and whether that rule acts on it (its action) or leaves it.

    The reason is worded when asked for: an audit of 100,000 images needs few."""

    digest: str
    rule: LifecycleRule
    acts: bool
    elapsed: timedelta  # since the push (or pull, or archiving) the rule counts from
    never_pulled: bool = False
    also: int | None = None  # a lower rule that marks the image too, when this one keeps it

    @property
    def reason(self) -> str:
        """Why the rule marks the image, or why it does not."""
        rule, n = self.rule, self.rule.count_number
        what = selection_text(rule)
        if rule.count_type is CountType.IMAGE_COUNT_MORE_THAN:
            if self.acts:
                return f"beyond {n} most recent {what}; pushed {age(self.elapsed)} ago"
            text = f"within {n} most recent {what}"
        else:
            event = "never pulled, pushed" if self.never_pulled else _EVENTS[rule.count_type]
            than = f"more than {n} days" if self.acts else f"not more than {n} days"
            text = f"{what}, {event} {age(self.elapsed)} ago ({than})"
        if self.also is None:
            return text
        return (
            f"{text} (rule {self.also} marks it too, but may not act on an image rule "
            f"{rule.priority} selects)"
        )


def evaluate(
    policy: LifecyclePolicy,
    images: Iterable[Image],
    now: datetime,
    *,
    archived: Mapping[str, datetime] | None = None,
) -> dict[str, EcrVerdict]:
    """The verdict of every image some rule selects (images no rule selects are absent).

    `archived`: digest -> when it was archived, for images in archive storage; every
    other image is in standard storage."""
    archived = archived or {}
    # Newest first, once: every rule's matches keep this order, which is what
    # imageCountMoreThan counts in. Each image's tags go one a line, so that a rule's
    # tag test is a regex search or two (a tag never holds a newline).
    # (Two stable sorts: by digest, then by push time: ties stay in digest order.)
    ordered = sorted(images, key=attrgetter("digest"))
    ordered.sort(key=attrgetter("pushed_at"), reverse=True)
    by_storage: dict[StorageClass, list[tuple[Image, str]]] = {s: [] for s in StorageClass}
    for image in ordered:
        storage = StorageClass.ARCHIVE if image.digest in archived else StorageClass.STANDARD
        by_storage[storage].append((image, "\n".join(image.tags)))
    verdicts: dict[str, EcrVerdict] = {}
    also: dict[str, LifecycleRule] = {}  # kept image -> a lower rule that marked it
    for rule in sorted(policy.rules, key=lambda r: r.priority):
        pool = _select(rule, by_storage[rule.storage_class])
        since = _since(rule, archived)
        if rule.count_type is CountType.IMAGE_COUNT_MORE_THAN:
            marked = [False] * min(rule.count_number, len(pool))
            marked += [True] * (len(pool) - len(marked))
        else:
            limit = now - timedelta(days=rule.count_number)  # more than N days ago
            marked = [since(image) < limit for image in pool]
        pulls = rule.count_type is CountType.SINCE_IMAGE_PULLED
        for image, marks in zip(pool, marked, strict=True):
            decided = verdicts.get(image.digest)
            if decided is None:
                never = pulls and image.last_pulled is None
                elapsed = now - since(image)
                verdicts[image.digest] = EcrVerdict(image.digest, rule, marks, elapsed, never)
            elif marks and not decided.acts and image.digest not in also:
                also[image.digest] = rule
    for digest, lower in also.items():
        verdicts[digest] = replace(verdicts[digest], also=lower.priority)
    return verdicts


def selection_text(rule: LifecycleRule) -> str:
    """What a rule selects, for reasons: `tagged prod*`, `untagged`, `images`."""
    where = "archived " if rule.storage_class is StorageClass.ARCHIVE else ""
    if rule.tag_status is LifecycleTagStatus.UNTAGGED:
        return f"{where}untagged"
    if rule.tag_status is LifecycleTagStatus.ANY:
        return f"{where}images"
    if rule.tag_patterns:
        return f"{where}tagged " + " and ".join(rule.tag_patterns)
    return f"{where}tagged " + " and ".join(f"{p}* (prefix)" for p in rule.tag_prefixes)


def _since(rule: LifecycleRule, archived: Mapping[str, datetime]) -> Callable[[Image], datetime]:
    """The time a rule counts from (for imageCountMoreThan: the push, for reasons)."""
    if rule.count_type in (CountType.SINCE_IMAGE_PUSHED, CountType.IMAGE_COUNT_MORE_THAN):
        return attrgetter("pushed_at")
    if rule.count_type is CountType.SINCE_IMAGE_PULLED:
        return lambda image: image.last_used  # push time if never pulled
    return lambda image: archived[image.digest]


_EVENTS = {
    CountType.SINCE_IMAGE_PUSHED: "pushed",
    CountType.SINCE_IMAGE_PULLED: "pulled",
    CountType.SINCE_IMAGE_TRANSITIONED: "archived",
}


def _select(rule: LifecycleRule, candidates: list[tuple[Image, str]]) -> list[Image]:
    """The images (with their tags, one a line) that the rule's selection matches.

    Every list entry must match some tag: one multi-line search per entry, anchored to
    a whole line (a tag) for a pattern, to the start of one for a prefix. An untagged
    image is never `tagged`, whatever the pattern (`*` matches "")."""
    if rule.tag_status is LifecycleTagStatus.ANY:
        return [image for image, _ in candidates]
    if rule.tag_status is LifecycleTagStatus.UNTAGGED:
        return [image for image, tags in candidates if not tags]
    if rule.tag_patterns:
        found = [_line_pattern(p).search for p in rule.tag_patterns]
    else:
        found = [re.compile(f"^{re.escape(p)}", re.MULTILINE).search for p in rule.tag_prefixes]
    if len(found) == 1:
        (search,) = found
        return [image for image, tags in candidates if tags and search(tags)]
    return [image for image, tags in candidates if tags and all(f(tags) for f in found)]


def _line_pattern(pattern: str) -> re.Pattern[str]:
    """A tagPatternList entry matching one whole line: `*` is any run of characters
    within the tag; nothing else is special (`?` and `[` are literal, as in ECR)."""
    parts = (re.escape(part) for part in pattern.split("*"))
    return re.compile("^" + "[^\n]*".join(parts) + "$", re.MULTILINE)
