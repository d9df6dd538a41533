"""One rule over its candidates: which tags (and untagged images) it keeps or expires, and why.

Rules claim tags in order: a tag some earlier rule selected, kept or expired, is invisible
to later rules (docs/semantics.md#rules). Pure: `now` is passed in, no AWS.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any, NamedTuple

from cleaner.config.model import Expire, Keep, OrderBy, Rule, Select, Storage, TagStatus
from cleaner.core.matching import tag_test
from cleaner.core.model import Image, ImageStatus
from cleaner.core.versions import Descending, semver_key

_ORDER_WORDS = {
    OrderBy.PUSHED: "by push time",
    OrderBy.PULLED: "by last pull",
    OrderBy.SEMVER: "by version",
}
_UNGROUPED = "\x00ungrouped"  # cannot collide with a captured group: tags hold no NUL
# The images a rule of each storage sees; ACTIVATING ones (being restored) no rule sees.
_SEES = {Storage.ACTIVE: ImageStatus.ACTIVE, Storage.ARCHIVED: ImageStatus.ARCHIVED}


@dataclass(slots=True)
class Claims:
    """What earlier rules selected: (digest, tag) pairs and untagged digests."""

    tags: set[tuple[str, str]] = field(default_factory=set)
    untagged: set[str] = field(default_factory=set)


# Named tuples, not dataclasses: a few are made for every image, and a tuple is made
# several times faster than a frozen dataclass.
class Candidate(NamedTuple):
    image: Image
    tags: tuple[str, ...]  # the image's tags this rule selected
    untagged: bool  # the image is untagged and this rule selected it


class Decision(NamedTuple):
    expired: bool
    reason: str


class Verdict(NamedTuple):
    """One rule's decisions about one candidate image."""

    digest: str
    tags: Mapping[str, Decision]
    untagged: Decision | None = None  # set when the image was an untagged candidate


def select_candidates(select: Select, images: Iterable[Image], claims: Claims) -> list[Candidate]:
    """This rule's candidates among `images`; records them in `claims` for later rules."""
    want_tagged = select.tag_status in (TagStatus.TAGGED, TagStatus.ANY)
    want_untagged = select.tag_status in (TagStatus.UNTAGGED, TagStatus.ANY)
    claimed, claimed_untagged = claims.tags, claims.untagged
    matches = None if select.tags is None else tag_test(select.tags)
    sees = _SEES[select.storage]
    candidates = []
    for image in images:  # callers pass them sorted by digest: a stable candidate order
        if image.status is not sees:
            continue
        tags, digest = image.tags, image.digest
        if not tags:
            if want_untagged and digest not in claimed_untagged:
                claimed_untagged.add(digest)
                candidates.append(Candidate(image, (), True))
            continue
        if not want_tagged:
            continue
        if len(tags) == 1:  # most images: no tuple to build
            tag = tags[0]
            if (digest, tag) not in claimed and (matches is None or matches(tag)):
                claimed.add((digest, tag))
                candidates.append(Candidate(image, tags, False))
            continue
        picked = tuple(
            tag
            for tag in sorted(set(tags))
            if (digest, tag) not in claimed and (matches is None or matches(tag))
        )
        if picked:
            claimed.update((digest, tag) for tag in picked)
            candidates.append(Candidate(image, picked, False))
    return candidates


def run_rules(
    rules: Sequence[Rule], images: Sequence[Image], now: datetime, claims: Claims | None = None
) -> list[list[Verdict]]:
    """Each rule's verdicts, in rule order, with tag claiming between rules."""
    claims = Claims() if claims is None else claims
    ordered = sorted(images, key=attrgetter("digest"))
    return [evaluate(rule, select_candidates(rule.select, ordered, claims), now) for rule in rules]


def evaluate(rule: Rule, candidates: Sequence[Candidate], now: datetime) -> list[Verdict]:
    """Keep, then expire, each candidate tag (and untagged candidate) of one rule.

    The items of one image in one keep group share their decision: without `group_by`,
    an image's tags are all kept or all expired, for the same reason."""
    group_of = _grouping(rule.keep)
    # Each item's keep group, computed once: keeping and expiring both need it.
    grouped = None
    if group_of is not None:
        grouped = [[(item, group_of(item)) for item in _items(cand)] for cand in candidates]
    kept = {} if rule.keep is None else _keep(rule.keep, candidates, grouped, now)
    expire = _expiry(rule, now)
    verdicts = []
    if grouped is None:  # one group: the items of an image are all decided alike
        for cand in candidates:
            digest = cand.image.digest
            decision = kept.get((digest, None)) or expire(cand.image, None)
            untagged = decision if cand.untagged else None
            verdicts.append(Verdict(digest, dict.fromkeys(cand.tags, decision), untagged))
        return verdicts
    for cand, items in zip(candidates, grouped, strict=True):
        digest = cand.image.digest
        tags: dict[str, Decision] = {}
        untagged = None
        for item, group in items:
            decision = kept.get((digest, group)) or expire(cand.image, group)
            if item is None:
                untagged = decision
            else:
                tags[item] = decision
        verdicts.append(Verdict(digest, tags, untagged))
    return verdicts


def _items(cand: Candidate) -> tuple[str | None, ...]:
    return _UNTAGGED_ITEM if cand.untagged else cand.tags


_UNTAGGED_ITEM: tuple[str | None, ...] = (None,)
Grouped = list[list[tuple[str | None, str]]]  # per candidate: (item, keep group)
Member = tuple[Candidate, Sequence[str | None]]  # a candidate, its items in one keep group


def _grouping(keep: Keep | None) -> Callable[[str | None], str] | None:
    """The keep group of a candidate item, or None without group_by (one group, None)."""
    if keep is None or keep.group_by is None:
        return None
    regex = keep.group_by.regex
    first = 1 if regex.groups else 0

    def group(tag: str | None) -> str:
        match = regex.search(tag) if tag is not None else None
        if match is None:
            return _UNGROUPED
        # An optional first group that did not take part falls back to the whole match.
        captured: str | None = match.group(first)
        return captured if captured is not None else match.group(0)

    return group


def _keep(
    keep: Keep, candidates: Sequence[Candidate], grouped: Grouped | None, now: datetime
) -> dict[tuple[str, str | None], Decision]:
    """(digest, keep group) -> the decision keeping that image's items of that group."""
    groups: dict[str | None, list[Member]] = {}
    if grouped is None:
        groups[None] = [(cand, _items(cand)) for cand in candidates]
    else:
        by_group: dict[str | None, dict[str, tuple[Candidate, list[str | None]]]] = {}
        for cand, items in zip(candidates, grouped, strict=True):
            for item, label in items:
                of_image = by_group.setdefault(label, {})
                of_image.setdefault(cand.image.digest, (cand, []))[1].append(item)
        groups = {group: list(of_image.values()) for group, of_image in by_group.items()}
    kept: dict[tuple[str, str | None], Decision] = {}
    order = _order_key(keep.order_by, now)
    for group, members in groups.items():
        reason = f"within {keep.most_recent} most recent{_in_group(group)}"
        decision = Decision(False, f"{reason} ({_ORDER_WORDS[keep.order_by]})")
        # nsmallest(n) is sorted()[:n]; every key is distinct (digests are).
        newest = members
        if len(members) > keep.most_recent:
            newest = heapq.nsmallest(keep.most_recent, members, key=order)
        for cand, _ in newest:
            kept[(cand.image.digest, group)] = decision
    return kept


def _order_key(order_by: OrderBy, now: datetime) -> Callable[[Member], tuple[Any, ...]]:
    """Sort key putting the newest first and breaking ties by digest.

    Ages (`now - t`) rather than timestamps: exact, and ascending means newest first.
    """

    def pushed(member: Member) -> tuple[Any, ...]:
        image = member[0].image
        return (now - image.pushed_at, image.digest)

    def pulled(member: Member) -> tuple[Any, ...]:
        image = member[0].image
        return (now - image.last_used, image.digest)

    def version(member: Member) -> tuple[Any, ...]:
        cand, items = member
        image = cand.image
        versions = [semver_key(t) for t in items if t is not None]
        best = max((v for v in versions if v is not None), default=None)
        if best is not None:
            return (0, Descending(best), image.digest)
        return (1, now - image.pushed_at, image.digest)

    return {OrderBy.PUSHED: pushed, OrderBy.PULLED: pulled, OrderBy.SEMVER: version}[order_by]


def _expiry(rule: Rule, now: datetime) -> Callable[[Image, str | None], Decision]:
    """Whether `rule.expire` holds for an image not kept (in a keep group), and why."""
    expire = rule.expire
    beyond: dict[str | None, str] = {}  # keep group -> how the reason starts

    def decide(image: Image, group: str | None) -> Decision:
        prefix = beyond.get(group)
        if prefix is None:
            keep = rule.keep
            prefix = beyond[group] = (
                "" if keep is None else f"beyond {keep.most_recent} most recent{_in_group(group)}; "
            )
        if expire is None:
            return Decision(True, f"{prefix}pushed {age(now - image.pushed_at)} ago")
        met, unmet = _conditions(expire, image, now)
        if unmet:
            return Decision(False, prefix + "; ".join(unmet))
        if not met:
            return Decision(True, f"{prefix}pushed {age(now - image.pushed_at)} ago")
        return Decision(True, prefix + "; ".join(met))

    return decide


def _conditions(expire: Expire, image: Image, now: datetime) -> tuple[list[str], list[str]]:
    """Phrases for the expire conditions that hold, and for those that do not."""
    met: list[str] = []
    unmet: list[str] = []
    pushed = now - image.pushed_at
    if expire.pushed_before is not None:
        text = f"pushed {age(pushed)} ago"
        if pushed > expire.pushed_before:
            met.append(text)
        else:
            unmet.append(f"{text} (pushed_before {duration(expire.pushed_before)} not met)")
    if expire.not_pulled_for is not None:
        if image.last_pulled is not None:
            text = f"pulled {age(now - image.last_pulled)} ago"
            met_text = f"not pulled for {age(now - image.last_pulled)}"
        else:
            text = met_text = f"never pulled, pushed {age(pushed)} ago"
            if expire.pushed_before is not None:
                met_text = "never pulled"
        if now - image.last_used > expire.not_pulled_for:
            met.append(met_text)
        else:
            unmet.append(f"{text} (not_pulled_for {duration(expire.not_pulled_for)} not met)")
    if expire.archived_before is not None:
        archived = now - image.archived_at if image.archived_at else None
        text = f"archived {age(archived)} ago" if archived is not None else "archive time unknown"
        if archived is not None and archived > expire.archived_before:
            met.append(text)
        else:
            unmet.append(f"{text} (archived_before {duration(expire.archived_before)} not met)")
    return met, unmet


def _in_group(group: str | None) -> str:
    if group is None:
        return ""
    if group == _UNGROUPED:
        return " outside group_by groups"
    return f" in group '{group}'"


def age(delta: timedelta) -> str:
    """An age for people: whole days from one day on, else whole hours."""
    if delta.days >= 1:
        return f"{delta.days}d"
    if delta.days < 0:
        return "0h"
    return f"{delta.seconds // 3600}h"


@functools.lru_cache(maxsize=256)  # a policy has a handful of durations, formatted per image
def duration(delta: timedelta) -> str:
    """A policy duration as the file could spell it (`14d`, `36h`, `90m`)."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if delta % timedelta(seconds=size) == timedelta(0):
            return f"{delta // timedelta(seconds=size)}{unit}"
    return f"{int(delta.total_seconds())}s"
