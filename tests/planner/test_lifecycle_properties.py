"""Properties of the lifecycle evaluator over random repositories and random valid
policies (hypothesis): it agrees with a literal transcription of ECR's documented
procedure; at most one rule acts on an image; a rule never acts on an image that a
higher-priority rule's selection matches; nothing depends on the order of the input;
and the planner, with no protection, deletes exactly what ECR's rules expire, never
what a workload uses."""

# ruff: noqa: E501  (one row per line keeps the tables readable)
from __future__ import annotations

import fnmatch
import json
import random
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.config.fields import Issues
from cleaner.config.lifecycle import validate_policy
from cleaner.config.lifecycle_model import LifecyclePolicy, LifecycleRule
from cleaner.core.lifecycle.evaluate import evaluate
from cleaner.core.model import ActionKind, Image

from .conftest import NOW, dg
from .lifecycle_support import as_policy, ecr_rule, planned

pytestmark = pytest.mark.slow  # property tests at full size: ~1 s each

TAGS = ["prod", "prod-1", "prod-2", "beta-1", "beta-2", "alpha-1", "v1", "v1.0", "latest", "Prod-3"]
PATTERNS = ["prod*", "beta*", "*-1", "v*", "prod", "*", "*a*", "*1*2", "p*d*"]
PREFIXES = ["prod", "beta", "v1", "a", "P"]
hours = st.integers(0, 24 * 40)


@st.composite
def repositories(draw: st.DrawFn) -> tuple[list[Image], dict[str, datetime]]:
    n = draw(st.integers(0, 12))
    images = []
    for k in range(1, n + 1):
        tags = draw(st.lists(st.sampled_from(TAGS), max_size=3, unique=True))
        pushed = NOW - timedelta(hours=draw(hours))
        pulled = draw(st.one_of(st.none(), hours.map(lambda h: NOW - timedelta(hours=h))))
        images.append(Image(dg(k), tuple(tags), pushed, max(pulled, pushed) if pulled else None))
    archived = {
        i.digest: NOW - timedelta(hours=draw(hours)) for i in images if draw(st.integers(0, 4)) == 0
    }
    return images, archived


@st.composite
def policies(draw: st.DrawFn) -> LifecyclePolicy:
    statuses = ["tagged"] * draw(st.integers(0, 4))
    if draw(st.booleans()):
        statuses.insert(draw(st.integers(0, len(statuses))), "untagged")
    if draw(st.booleans()) or not statuses:
        statuses.append("any")
    priorities = sorted(draw(st.lists(st.integers(1, 60), min_size=len(statuses), max_size=len(statuses), unique=True)))  # fmt: skip
    rules = []
    for priority, status in zip(priorities, statuses, strict=True):
        lists = {}
        if status == "tagged":
            kind, pool = draw(st.sampled_from([("patterns", PATTERNS), ("prefixes", PREFIXES)]))
            lists[kind] = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2))
        count = draw(st.sampled_from(["count", "pushed", "pulled"]))
        action = "transition" if count == "pulled" else draw(st.sampled_from(["expire", "transition"]))  # fmt: skip
        n = draw(st.integers(1, 4) if count == "count" else st.integers(1, 30))
        rules.append(ecr_rule(priority, status, count, n, action=action, **lists))
    if draw(st.booleans()):  # a rule for archived images
        count = draw(st.sampled_from(["count", "pushed", "transitioned"]))
        n = draw(st.integers(1, 30))
        rules.append(ecr_rule(61, draw(st.sampled_from(["any", "untagged"])), count, n, storage="archive"))  # fmt: skip
    issues = Issues()
    doc = {"rules": draw(st.permutations(rules))}
    policy = validate_policy(issues, "", doc, text_length=len(json.dumps(doc)))  # fmt: skip
    assert policy is not None, issues.errors
    return policy


def selects(rule: LifecycleRule, image: Image) -> bool:
    """A second, independent reading of the selection: fnmatch with `*` the only wildcard."""
    if rule.tag_status == "untagged":
        return not image.tags
    if rule.tag_status == "any":
        return True
    literal = [p.replace("[", "[[]").replace("?", "[?]") for p in rule.tag_patterns]
    return all(any(fnmatch.fnmatchcase(t, p) for t in image.tags) for p in literal) and all(
        any(t.startswith(p) for t in image.tags) for p in rule.tag_prefixes
    )


def reference(
    policy: LifecyclePolicy, images: Sequence[Image], archived: Mapping[str, datetime]
) -> dict[str, int]:
    """ECR's procedure as the guide words it: every rule marks images on its own (counting
    every image it matches); then, by priority, each marks what no higher rule's selection
    matched. Returns digest -> the priority of the rule that acts on it."""
    marks: dict[int, set[str]] = {}
    seen = {r.priority: [i for i in images if sees(r, i, archived) and selects(r, i)] for r in policy.rules}  # fmt: skip
    for rule in policy.rules:
        pool = list(seen[rule.priority])
        pool.sort(key=lambda i: (-i.pushed_at.timestamp(), i.digest))
        limit = timedelta(days=rule.count_number)
        if rule.count_type == "imageCountMoreThan":
            marks[rule.priority] = {i.digest for i in pool[rule.count_number :]}
        else:
            since = {
                "sinceImagePushed": lambda i: i.pushed_at,
                "sinceImagePulled": lambda i: i.last_pulled or i.pushed_at,
                "sinceImageTransitioned": lambda i: archived[i.digest],
            }[rule.count_type]
            marks[rule.priority] = {i.digest for i in pool if NOW - since(i) > limit}
    acting: dict[str, int] = {}
    selected_above: set[str] = set()
    for rule in sorted(policy.rules, key=lambda r: r.priority):
        for digest in marks[rule.priority] - selected_above:
            acting[digest] = rule.priority
        selected_above |= {i.digest for i in seen[rule.priority]}
    return acting


def sees(rule: LifecycleRule, image: Image, archived: Mapping[str, datetime]) -> bool:
    """A rule sees the images of its storage class only (standard unless it says)."""
    return (rule.storage_class == "archive") == (image.digest in archived)


def acting(policy: LifecyclePolicy, images: Sequence[Image], archived: Mapping[str, datetime]) -> dict[str, int]:  # fmt: skip
    found = evaluate(policy, images, NOW, archived=archived)
    return {d: v.rule.priority for d, v in found.items() if v.acts}


@settings(max_examples=120, deadline=None)
@given(repositories(), policies())
def test_evaluator_agrees_with_the_documented_procedure(
    repo: tuple[list[Image], dict[str, datetime]], policy: LifecyclePolicy
) -> None:
    images, archived = repo
    assert acting(policy, images, archived) == reference(policy, images, archived)


@settings(max_examples=80, deadline=None)
@given(repositories(), policies())
def test_one_rule_at_most_and_never_below_a_rule_that_selects_the_image(
    repo: tuple[list[Image], dict[str, datetime]], policy: LifecyclePolicy
) -> None:
    images, archived = repo
    found = evaluate(policy, images, NOW, archived=archived)
    for image in images:
        verdict = found.get(image.digest)
        matching = [r for r in policy.rules if sees(r, image, archived) and selects(r, image)]
        if verdict is None:
            assert not matching
            continue
        # The deciding rule is the first that selects the image; no other rule acts on it.
        assert verdict.rule == matching[0]
        if verdict.acts:
            higher = [r for r in policy.rules if r.priority < verdict.rule.priority]
            assert not [r for r in higher if sees(r, image, archived) and selects(r, image)]


@settings(max_examples=80, deadline=None)
@given(repositories(), policies(), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_the_order_of_images_or_rules(
    repo: tuple[list[Image], dict[str, datetime]], policy: LifecyclePolicy, rnd: random.Random
) -> None:
    images, archived = repo
    shuffled = list(images)
    rnd.shuffle(shuffled)
    rules = list(policy.rules)
    rnd.shuffle(rules)
    listed = LifecyclePolicy(tuple(rules))
    assert evaluate(listed, shuffled, NOW, archived=archived) == evaluate(
        policy, images, NOW, archived=archived
    )


def expire_only(policy: LifecyclePolicy) -> LifecyclePolicy | None:
    rules = tuple(
        r for r in policy.rules if r.action.type == "expire" and r.storage_class == "standard"
    )
    return LifecyclePolicy(rules) if rules else None


@settings(max_examples=80, deadline=None)
@given(repositories(), policies(), st.sets(st.integers(1, 12), max_size=3))
def test_planner_deletes_what_ecr_expires_except_what_is_in_use(
    repo: tuple[list[Image], dict[str, datetime]], policy: LifecyclePolicy, used: set[int]
) -> None:
    images, _ = repo
    expiring = expire_only(policy)
    if expiring is None:
        return
    expired = set(acting(expiring, images, {}))
    plan = planned(as_policy(expiring), images)
    assert {a.digest for a in plan.actions} == expired
    assert all(a.kind is ActionKind.DELETE_IMAGE for a in plan.actions)
    in_use = {n: "ecs:svc" for n in used}
    guarded = planned(as_policy(expiring), images, in_use=in_use)
    assert {a.digest for a in guarded.actions} == expired - {dg(n) for n in used}
