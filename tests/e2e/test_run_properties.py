"""Properties of whole runs over random registries, against the sandbox over HTTP:
plan then run deletes exactly what the plan listed, dry-run never deletes, and a
second run finds nothing more to delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaner.aws.clients import Clients
from cleaner.config.load import load_config_text
from cleaner.core.model import ActionKind, Status
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import run_once
from cleaner.sandbox import Sandbox, Seeder

pytestmark = pytest.mark.slow  # a property test over the sandbox: ~10 s

NOW = datetime(2027, 1, 1, tzinfo=UTC)
TAGS = [
    "v1.0.0",
    "v1.2.0",
    "v2.0.0",
    "feature-a-1",
    "feature-a-2",
    "feature-b-1",
    "latest",
    "build-1",
    "build-2",
    "build-3",
]

POLICIES = [
    """
policies:
  - name: p
    protect: {tags: [latest], keep_at_least: 2}
    rules:
      - name: features
        select: {tag_status: tagged, tags: ["feature-*"]}
        keep: {most_recent: 1, group_by: "^feature-([a-z]+)-"}
      - name: untagged
        select: {tag_status: untagged}
        expire: {pushed_before: 5d}
""",
    """
policies:
  - name: p
    protect: {pulled_within: 10d}
    rules:
      - name: releases
        select: {tag_status: tagged, tags: ["re:^v\\\\d+\\\\.\\\\d+\\\\.\\\\d+$"]}
        keep: {most_recent: 1, order_by: semver}
      - name: everything
        select: {tag_status: any}
        expire: {pushed_before: 20d, not_pulled_for: 15d}
""",
    """
policies:
  - name: p
    rules:
      - name: all
        select: {tag_status: any}
        keep: {most_recent: 2, order_by: pulled}
limits: {orphaned_referrers: delete}
""",
]

Spec = list[tuple[str, int, int | None, list[str]]]

image_spec = st.tuples(
    st.sampled_from(["plain", "index", "signed"]),
    st.integers(min_value=0, max_value=60),  # pushed days ago
    st.one_of(st.none(), st.integers(min_value=0, max_value=60)),  # pulled days ago
)


@st.composite
def registries(draw: st.DrawFn) -> Spec:
    specs = draw(st.lists(image_spec, min_size=1, max_size=12))
    owners = draw(st.lists(st.integers(0, len(specs)), min_size=len(TAGS), max_size=len(TAGS)))
    out = []
    for i, (kind, pushed, pulled) in enumerate(specs):
        tags = [t for t, owner in zip(TAGS, owners, strict=True) if owner == i]
        out.append((kind, pushed, pulled, tags))
    return out


def seed(sb: Sandbox, spec: Spec) -> None:
    repo = Seeder(sb.store).repository("app")
    for kind, pushed, pulled, tags in spec:
        at = NOW - timedelta(days=pushed)
        last = None if pulled is None else NOW - timedelta(days=pulled)
        if kind == "index":
            repo.index(tags, pushed_at=at, last_pulled=last, attestations=True)
        else:
            digest = repo.image(tags, pushed_at=at, last_pulled=last)
            if kind == "signed":
                repo.cosign(digest, pushed_at=at)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=registries(), policy=st.sampled_from(POLICIES))
def test_plan_then_run_deletes_exactly_the_plan(sb: Sandbox, spec: Spec, policy: str) -> None:
    sb.reset()
    seed(sb, spec)
    config = load_config_text("version: 1\ntargets: [{region: us-east-1}]\n" + policy)
    repo = sb.store.repository("123456789012", "us-east-1", "app")
    assert repo is not None
    before = {d: set(i.tags) for d, i in repo.images.items()}

    planned = run_once(config, Clients(), NOW, RunOptions(dry_run=True)).report.repositories[0]
    assert sb.faults.calls["BatchDeleteImage"] == 0
    assert {d: set(i.tags) for d, i in repo.images.items()} == before

    ran = run_once(config, Clients(), NOW, RunOptions(dry_run=False)).report.repositories[0]
    assert [(a.kind, a.digest, a.tags) for a in ran.actions] == [
        (a.kind, a.digest, a.tags) for a in planned.actions
    ]
    assert all(a.status is Status.DELETED for a in ran.actions)
    expected = {d: set(t) for d, t in before.items()}
    for action in planned.actions:
        if action.kind is ActionKind.DELETE_IMAGE:
            del expected[action.digest]
        else:
            expected[action.digest] -= set(action.tags)
    assert {d: set(i.tags) for d, i in repo.images.items()} == expected

    again = run_once(config, Clients(), NOW, RunOptions(dry_run=False)).report.repositories[0]
    assert again.actions == ()
