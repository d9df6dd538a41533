"""A run makes the minimum number of API calls for its registry: pages of 1000, manifest
reads of 100 uncached indexes, one re-describe and one delete per batch of 100 per phase."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from cleaner.aws.clients import Clients
from cleaner.aws.ecr import ManifestCache
from cleaner.config.load import load_config_text
from cleaner.core.model import ActionKind
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import run_once
from cleaner.sandbox import Sandbox, Seeder

NOW = datetime(2027, 1, 1, tzinfo=UTC)
POLICY = """
version: 1
targets: [{region: us-east-1}]
policies:
  - name: p
    rules:
      - name: old-builds
        select: {tag_status: tagged, tags: ["build-*"]}
        expire: {pushed_before: 30d}
limits: {max_deletions: 100000}
"""


def test_run_uses_the_minimum_calls_and_a_warm_cache_reads_no_manifests(sb: Sandbox) -> None:
    repo = Seeder(sb.store).repository("big")
    # 2,300 plain images (build-0 oldest) + 150 multi-arch indexes with 2 children each.
    repo.bulk(2300, start=NOW - timedelta(days=100), step=timedelta(minutes=30), tag_every=1)
    for n in range(150):
        repo.index([f"build-idx-{n}"], pushed_at=NOW - timedelta(days=90 - n // 3))
    images = len(repo.snapshot())
    config = load_config_text(POLICY)
    cache = ManifestCache()

    result = run_once(config, Clients(), NOW, RunOptions(dry_run=False, cache=cache))
    actions = result.report.repositories[0].actions
    per_phase: dict[int, int] = {}
    for action in actions:
        ids = 1 if action.kind is ActionKind.DELETE_IMAGE else len(action.tags)
        per_phase[action.phase] = per_phase.get(action.phase, 0) + ids
    batches = sum(math.ceil(n / 100) for n in per_phase.values())
    assert len(per_phase) == 2 and batches > 10  # parents and children, many batches
    assert dict(sb.faults.calls) == {
        "DescribeRepositories": 1,
        "DescribeImages": math.ceil(images / 1000) + batches,
        "BatchGetImage": math.ceil(150 / 100),
        "BatchDeleteImage": batches,
    }

    sb.faults.calls.clear()
    run_once(config, Clients(), NOW, RunOptions(dry_run=True, cache=cache))
    assert sb.faults.calls["BatchGetImage"] == 0  # every remaining index was read before
