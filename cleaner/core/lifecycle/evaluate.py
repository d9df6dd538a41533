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
from dataclasses import dataclass
from datetime import datetime, timedelta

from cleaner.config.lifecycle_model import (
    CountType,
    LifecyclePolicy,
    LifecycleRule,
    LifecycleTagStatus,
    StorageClass,
)
from cleaner.core.model import Image
from cleaner.core.rules import age

Matcher = Callable[[tuple[str, ...]], bool]


@dataclass(frozen=True, slots=True)
class Verdict:
    """ECR's decision about one image: the first rule (by priority) whose selection
    matches it, and whether that rule acts on it (its action) or leaves it."""

    digest: str
    rule: LifecycleRule
    acts: bool
    reason: str  # why the rule marks it, or why it does not


def evaluate(
    policy: LifecyclePolicy,
    images: Iterable[Image],
    now: datetime,
    *,
    archived: Mapping[str, datetime] | None = None,
) -> dict[str, Verdict]:
    """The verdict of every image some rule selects (images no rule selects are absent).

    `archived`: digest -> when it was archived, for images in archive storage; every
    other image is in standard storage."""
    archived = archived or {}
    # Newest first, once: every rule's matches keep this order, which is what
    # imageCountMoreThan counts in.
    ordered = sorted(images, key=lambda i: (now - i.pushed_at, i.digest))
    verdicts: dict[str, Verdict] = {}
    also: dict[str, LifecycleRule] = {}  # kept image -> a lower rule that marked it
    for rule in sorted(policy.rules, key=lambda r: r.priority):
        archive = rule.storage_class is StorageClass.ARCHIVE
        matches = _matcher(rule)
        pool = [i for i in ordered if (i.digest in archived) == archive and matches(i.tags)]
        for position, image in enumerate(pool):
            marked, reason = _mark(rule, image, position, now, archived)
            decided = verdicts.get(image.digest)
            if decided is None:
                verdicts[image.digest] = Verdict(image.digest, rule, marked, reason)
            elif marked and not decided.acts and image.digest not in also:
                also[image.digest] = rule
    for digest, lower in also.items():
        kept = verdicts[digest]
        note = (
            f" (rule {lower.priority} marks it too, but may not act on an image rule "
            f"{kept.rule.priority} selects)"
        )
        verdicts[digest] = Verdict(digest, kept.rule, False, kept.reason + note)
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


def _mark(
    rule: LifecycleRule,
    image: Image,
    position: int,
    now: datetime,
    archived: Mapping[str, datetime],
) -> tuple[bool, str]:
    """Whether `rule` marks `image` (at `position` among its matches, newest first)."""
    n = rule.count_number
    what = selection_text(rule)
    if rule.count_type is CountType.IMAGE_COUNT_MORE_THAN:
        if position < n:
            return False, f"within {n} most recent {what}"
        return True, f"beyond {n} most recent {what}; pushed {age(now - image.pushed_at)} ago"
    if rule.count_type is CountType.SINCE_IMAGE_PUSHED:
        event, when = "pushed", image.pushed_at
    elif rule.count_type is CountType.SINCE_IMAGE_PULLED:
        event = "pulled" if image.last_pulled else "never pulled, pushed"
        when = image.last_used
    else:
        event, when = "archived", archived[image.digest]
    elapsed = now - when
    marked = elapsed > timedelta(days=n)
    than = f"more than {n} days" if marked else f"not more than {n} days"
    return marked, f"{what}, {event} {age(elapsed)} ago ({than})"


def _matcher(rule: LifecycleRule) -> Matcher:
    if rule.tag_status is LifecycleTagStatus.UNTAGGED:
        return lambda tags: not tags
    if rule.tag_status is LifecycleTagStatus.ANY:
        return lambda tags: True
    if rule.tag_prefixes:
        prefixes = rule.tag_prefixes
        return lambda tags: all(any(t.startswith(p) for t in tags) for p in prefixes)
    patterns = [pattern_regex(p) for p in rule.tag_patterns]
    return lambda tags: all(any(p.fullmatch(t) for t in tags) for p in patterns)


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A tagPatternList entry as a regex: `*` is any run of characters; nothing else is
    special (`?` and `[` are literal, as in ECR's grammar)."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)
