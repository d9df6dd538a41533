"""Small builders for planner tests: images by number, ages in days, policies in one line."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from cleaner.config.model import (
    Expire,
    Keep,
    Limits,
    NamePatterns,
    OrderBy,
    OrphanedReferrers,
    Policy,
    Protect,
    Rule,
    Select,
    TagPattern,
    TagStatus,
)
from cleaner.core.model import (
    ActionKind,
    Image,
    Inventory,
    RepositoryPlan,
    RepositoryRef,
)
from cleaner.core.planner import plan_repository

NOW = datetime(2027, 1, 1, tzinfo=UTC)
REPO = RepositoryRef("us-east-1", "123456789012", "team-a/api")
INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
SIG_ARTIFACT = "application/vnd.dev.cosign.artifact.sig.v1+json"


def dg(n: int) -> str:
    return "sha256:" + f"{n:064x}"


def num(digest: str) -> int:
    return int(digest.removeprefix("sha256:"), 16)


def sig(subject_n: int, kind: str = "sig") -> str:
    """The cosign-style tag naming image `subject_n`."""
    return f"sha256-{subject_n:064x}.{kind}"


def img(
    n: int,
    tags: Iterable[str] = (),
    pushed_days_ago: float = 1,
    pulled_days_ago: float | None = None,
    *,
    size: int = 100,
    index: bool = False,
    subject: int | None = None,
) -> Image:
    return Image(
        digest=dg(n),
        tags=tuple(tags),
        pushed_at=NOW - timedelta(days=pushed_days_ago),
        last_pulled=None if pulled_days_ago is None else NOW - timedelta(days=pulled_days_ago),
        size=size,
        media_type=INDEX if index else MANIFEST,
        artifact_media_type=SIG_ARTIFACT if subject is not None else None,
        subject=None if subject is None else dg(subject),
    )


def inventory(
    images: Iterable[Image], children: Mapping[int, Iterable[int]] | None = None
) -> Inventory:
    return Inventory(
        REPO,
        {i.digest: i for i in images},
        {dg(n): tuple(dg(c) for c in kids) for n, kids in (children or {}).items()},
    )


def days(n: float) -> timedelta:
    return timedelta(days=n)


def regex(text: str) -> TagPattern:
    """group_by as config reads it: always a regex, `re:` prefix or not."""
    return TagPattern(text, re.compile(text.removeprefix("re:")))


def rule(
    name: str = "r",
    *,
    status: str = "any",
    tags: Iterable[str] | None = None,
    keep: int | None = None,
    order_by: str = "pushed",
    group_by: str | None = None,
    pushed_before: float | None = None,
    not_pulled_for: float | None = None,
) -> Rule:
    expire = None
    if pushed_before is not None or not_pulled_for is not None:
        expire = Expire(
            pushed_before=None if pushed_before is None else days(pushed_before),
            not_pulled_for=None if not_pulled_for is None else days(not_pulled_for),
        )
    return Rule(
        name=name,
        select=Select(
            TagStatus(status), None if tags is None else tuple(TagPattern.parse(t) for t in tags)
        ),
        keep=None
        if keep is None
        else Keep(
            keep,
            OrderBy(order_by),
            None if group_by is None else regex(group_by),
        ),
        expire=expire,
    )


def pol(
    *rules: Rule,
    protect: Iterable[str] = (),
    pulled_within: float | None = None,
    keep_at_least: int | None = None,
) -> Policy:
    """`keep_at_least` None: the product's default, as a policy file that omits it gets."""
    protect_ = Protect(
        tags=tuple(TagPattern.parse(t) for t in protect),
        pulled_within=None if pulled_within is None else days(pulled_within),
    )
    if keep_at_least is not None:
        protect_ = replace(protect_, keep_at_least=keep_at_least)
    return Policy(
        name="services",
        repositories=NamePatterns(),
        protect=protect_,
        rules=tuple(rules),
    )


def limits(ratio: float = 1.0, orphans: str = "keep", max_deletions: int = 1000) -> Limits:
    return Limits(max_deletions, ratio, OrphanedReferrers(orphans))


def plan(
    images: Iterable[Image],
    policy: Policy,
    *,
    children: Mapping[int, Iterable[int]] | None = None,
    lim: Limits | None = None,
    in_use: Mapping[int, str] | None = None,
) -> RepositoryPlan:
    return plan_repository(
        inventory(images, children),
        policy,
        lim or Limits(),
        NOW,
        in_use=None if in_use is None else {dg(n): w for n, w in in_use.items()},
    )


@dataclass(frozen=True)
class Outcome:
    """A plan reduced to image numbers: what is deleted, which tags go, what is kept."""

    deleted: frozenset[int] = frozenset()
    removed: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    kept: frozenset[int] = frozenset()


def outcome(p: RepositoryPlan) -> Outcome:
    return Outcome(
        deleted=frozenset(num(a.digest) for a in p.actions if a.kind is ActionKind.DELETE_IMAGE),
        removed={num(a.digest): a.tags for a in p.actions if a.kind is ActionKind.REMOVE_TAG},
        kept=frozenset(num(k.digest) for k in p.kept),
    )


def expect(
    deleted: Iterable[int] = (),
    removed: Mapping[int, tuple[str, ...]] | None = None,
    kept: Iterable[int] = (),
) -> Outcome:
    return Outcome(frozenset(deleted), dict(removed or {}), frozenset(kept))


def reasons(p: RepositoryPlan) -> dict[int, str]:
    """Reason per image number: of its action, else of its kept entry."""
    found = {num(k.digest): k.reason for k in p.kept}
    found.update({num(a.digest): a.reason for a in p.actions})
    return found
