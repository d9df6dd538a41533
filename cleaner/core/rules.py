"""One rule over its candidates: which tags (and untagged images) it keeps or expires, and why.

Rules claim tags in order: a tag some earlier rule selected, kept or expired, is invisible
to later rules (docs/semantics.md#rules). Pure: `now` is passed in, no AWS.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cleaner.config.model import Expire, Keep, OrderBy, Rule, Select, Storage, TagStatus
from cleaner.core.model import Image, ImageStatus

_PRERELEASE_ID = r"(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
_SEMVER = re.compile(
    r"v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    rf"(?:-({_PRERELEASE_ID}(?:\.{_PRERELEASE_ID})*))?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?",
    re.ASCII,  # \d must not match other scripts' digits: int() would accept them
)
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


@dataclass(frozen=True, slots=True)
class Candidate:
    image: Image
    tags: tuple[str, ...]  # the image's tags this rule selected
    untagged: bool  # the image is untagged and this rule selected it


@dataclass(frozen=True, slots=True)
class Decision:
    expired: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """One rule's decisions about one candidate image."""

    digest: str
    tags: Mapping[str, Decision]
    untagged: Decision | None = None  # set when the image was an untagged candidate


def select_candidates(select: Select, images: Iterable[Image], claims: Claims) -> list[Candidate]:
    """This rule's candidates among `images`; records them in `claims` for later rules."""
    want_tagged = select.tag_status in (TagStatus.TAGGED, TagStatus.ANY)
    want_untagged = select.tag_status in (TagStatus.UNTAGGED, TagStatus.ANY)
    claimed = claims.tags
    patterns = None if select.tags is None else [p.regex for p in select.tags]
    sees = _SEES[select.storage]
    candidates = []
    for image in images:  # callers pass them sorted by digest: a stable candidate order
        if image.status is not sees:
            continue
        if not image.tags:
            if want_untagged and image.digest not in claims.untagged:
                claims.untagged.add(image.digest)
                candidates.append(Candidate(image, (), untagged=True))
            continue
        if not want_tagged:
            continue
        own = image.tags if len(image.tags) == 1 else sorted(set(image.tags))
        picked = []
        for tag in own:
            if (image.digest, tag) in claimed:
                continue
            if patterns is not None and not any(p.fullmatch(tag) for p in patterns):
                continue
            picked.append(tag)
        if picked:
            claimed.update((image.digest, tag) for tag in picked)
            candidates.append(Candidate(image, tuple(picked), untagged=False))
    return candidates


def run_rules(
    rules: Sequence[Rule], images: Sequence[Image], now: datetime, claims: Claims | None = None
) -> list[list[Verdict]]:
    """Each rule's verdicts, in rule order, with tag claiming between rules."""
    claims = Claims() if claims is None else claims
    ordered = sorted(images, key=lambda i: i.digest)
    return [evaluate(rule, select_candidates(rule.select, ordered, claims), now) for rule in rules]


def evaluate(rule: Rule, candidates: Sequence[Candidate], now: datetime) -> list[Verdict]:
    """Keep, then expire, each candidate tag (and untagged candidate) of one rule."""
    # Each item's keep group, computed once: keeping and expiring both need it.
    grouped = [
        (cand, [(item, _group(rule.keep, item)) for item in _items(cand)]) for cand in candidates
    ]
    kept = _keep(rule.keep, grouped, now) if rule.keep else {}
    verdicts = []
    for cand, items in grouped:
        digest = cand.image.digest
        decisions = {
            item: (
                Decision(False, kept[(digest, item)])
                if (digest, item) in kept
                else _expire(rule, cand.image, group, now)
            )
            for item, group in items
        }
        untagged = decisions.pop(None, None)
        tags = {tag: d for tag, d in decisions.items() if tag is not None}
        verdicts.append(Verdict(digest, tags, untagged))
    return verdicts


def _items(cand: Candidate) -> list[str | None]:
    return [None] if cand.untagged else list(cand.tags)


def _group(keep: Keep | None, tag: str | None) -> str | None:
    """The keep group of a candidate tag: None without group_by, else its label."""
    if keep is None or keep.group_by is None:
        return None
    match = keep.group_by.regex.search(tag) if tag is not None else None
    if match is None:
        return _UNGROUPED
    # An optional first group that did not take part falls back to the whole match.
    captured = match.group(1) if keep.group_by.regex.groups else None
    return captured if captured is not None else match.group(0)


def _keep(
    keep: Keep,
    grouped: Sequence[tuple[Candidate, list[tuple[str | None, str | None]]]],
    now: datetime,
) -> dict[tuple[str, str | None], str]:
    groups: dict[str | None, dict[str, tuple[Candidate, list[str | None]]]] = {}
    for cand, item_groups in grouped:
        for item, group in item_groups:
            members = groups.setdefault(group, {})
            members.setdefault(cand.image.digest, (cand, []))[1].append(item)
    kept: dict[tuple[str, str | None], str] = {}
    for group, members in groups.items():
        ranked = sorted(members.values(), key=_order_key(keep.order_by, now))
        reason = f"within {keep.most_recent} most recent{_in_group(group)}"
        reason += f" ({_ORDER_WORDS[keep.order_by]})"
        for cand, members_items in ranked[: keep.most_recent]:
            kept.update(((cand.image.digest, item), reason) for item in members_items)
    return kept


def _order_key(
    order_by: OrderBy, now: datetime
) -> Callable[[tuple[Candidate, list[str | None]]], tuple[Any, ...]]:
    """Sort key putting the newest first and breaking ties by digest.

    Ages (`now - t`) rather than timestamps: exact, and ascending means newest first.
    """

    def key(member: tuple[Candidate, list[str | None]]) -> tuple[Any, ...]:
        cand, items = member
        image = cand.image
        if order_by is OrderBy.PULLED:
            return (now - image.last_used, image.digest)
        if order_by is OrderBy.SEMVER:
            versions = [semver_key(t) for t in items if t is not None]
            best = max((v for v in versions if v is not None), default=None)
            if best is not None:
                return (0, _Descending(best), image.digest)
            return (1, now - image.pushed_at, image.digest)
        return (now - image.pushed_at, image.digest)

    return key


@dataclass(frozen=True, slots=True)
class _Descending:
    """Inverts the order of a sort key, so the highest version sorts first."""

    value: tuple[Any, ...]

    def __lt__(self, other: _Descending) -> bool:
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


def _expire(rule: Rule, image: Image, group: str | None, now: datetime) -> Decision:
    prefix = []
    if rule.keep is not None:
        prefix.append(f"beyond {rule.keep.most_recent} most recent{_in_group(group)}")
    if rule.expire is None:
        return Decision(True, "; ".join([*prefix, f"pushed {age(now - image.pushed_at)} ago"]))
    met, unmet = _conditions(rule.expire, image, now)
    if unmet:
        return Decision(False, "; ".join(prefix + unmet))
    return Decision(True, "; ".join(prefix + (met or [f"pushed {age(now - image.pushed_at)} ago"])))


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
