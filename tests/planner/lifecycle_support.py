"""Builders for lifecycle tests: ECR rules in one line, images by letter, ages in days."""

# ruff: noqa: E501  (one row per line keeps the tables readable)
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from cleaner.config.lifecycle_model import LifecyclePolicy
from cleaner.config.lifecycle_source import policy_from_text
from cleaner.config.model import Limits, NamePatterns, Policy, Protect, TagPattern
from cleaner.core.lifecycle.evaluate import EcrVerdict, evaluate
from cleaner.core.model import Image, RepositoryPlan

from .conftest import NOW, dg, img, num, plan

Doc = dict[str, Any]
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def letter(n: int) -> str:
    return LETTERS[n - 1]


def number(name: str) -> int:
    return LETTERS.index(name) + 1


def ecr_rule(
    priority: int,
    status: str,
    count: str,
    n: int,
    *,
    prefixes: Iterable[str] = (),
    patterns: Iterable[str] = (),
    storage: str | None = None,
    action: str = "expire",
) -> Doc:
    """One rule as ECR's JSON has it: `count` is `count` (imageCountMoreThan), `pushed`,
    `pulled` or `transitioned` (the since* types, in days)."""
    selection: Doc = {"tagStatus": status}
    if prefixes:
        selection["tagPrefixList"] = list(prefixes)
    if patterns:
        selection["tagPatternList"] = list(patterns)
    if storage:
        selection["storageClass"] = storage
    if count == "count":
        selection.update(countType="imageCountMoreThan", countNumber=n)
    else:
        since = {"pushed": "Pushed", "pulled": "Pulled", "transitioned": "Transitioned"}[count]
        selection.update(countType=f"sinceImage{since}", countUnit="days", countNumber=n)
    act: Doc = {"type": action}
    if action == "transition":
        act["targetStorageClass"] = "archive"
    return {"rulePriority": priority, "description": f"Rule {priority}", "selection": selection, "action": act}  # fmt: skip


def lifecycle(*rules: Doc) -> LifecyclePolicy:
    return policy_from_text(json.dumps({"rules": list(rules)}))


def image(
    name: str, tags: Iterable[str] = (), pushed: float = 1, pulled: float | None = None
) -> Image:
    """Image `name` (a letter), pushed `pushed` days ago (and pulled `pulled` days ago)."""
    return img(number(name), tags, pushed, pulled)


def verdicts(
    policy: LifecyclePolicy,
    images: Iterable[Image],
    *,
    archived: Mapping[str, float] | None = None,
    now: datetime = NOW,
) -> dict[str, EcrVerdict]:
    """Verdicts by image letter; `archived`: letter -> days since it was archived."""
    when = {dg(number(k)): now - timedelta(days=v) for k, v in (archived or {}).items()}
    found = evaluate(policy, images, now, archived=when)
    return {letter(num(d)): v for d, v in found.items()}


def acted(found: Mapping[str, EcrVerdict], action: str | None = None) -> set[str]:
    return {k for k, v in found.items() if v.acts and action in (None, v.rule.action.type)}


def as_policy(
    policy: LifecyclePolicy,
    *,
    protect: Iterable[str] = (),
    keep_at_least: int = 0,
    pulled_within: float | None = None,
) -> Policy:
    """A cleaner policy with this lifecycle policy instead of rules: no protection unless
    asked (keep_at_least 0), so that what it plans is what ECR itself would do."""
    protection = Protect(
        tags=tuple(TagPattern.parse(t) for t in protect),
        keep_at_least=keep_at_least,
        pulled_within=None if pulled_within is None else timedelta(days=pulled_within),
    )
    return Policy("lifecycle", NamePatterns(), protection, (), policy)


def planned(
    policy: LifecyclePolicy | Policy,
    images: Iterable[Image],
    *,
    lim: Limits | None = None,
    **options: Any,
) -> RepositoryPlan:
    pol = policy if isinstance(policy, Policy) else as_policy(policy)
    return plan(images, pol, lim=lim, **options)


def deleted_letters(p: RepositoryPlan) -> set[str]:
    return {letter(num(a.digest)) for a in p.actions if a.kind == "delete_image"}


def without_protection(policy: Policy) -> Policy:
    return replace(policy, protect=Protect(keep_at_least=0))
