"""Run the cleaner against a seeded sandbox and compare its API calls with the minimum."""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench.common import NOW, policy, quiet_logs
from cleaner.aws.clients import Clients
from cleaner.aws.ecr import ManifestCache
from cleaner.config.load import load_config_text
from cleaner.core.model import ActionKind, RepositoryPlan, RepositoryRef
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import run_once
from cleaner.sandbox import Sandbox

PAGE = 1000
BATCH = 100


@dataclass
class Outcome:
    seconds: float
    calls: dict[str, int]
    minimum: dict[str, int]
    plans: list[RepositoryPlan]
    exit_code: int


def point_at(sandbox: Sandbox) -> None:
    os.environ.update(sandbox.environment())
    quiet_logs()


def minimum_calls(plans: list[RepositoryPlan], indexes_read: int) -> dict[str, int]:
    """The fewest calls that can list, read and delete what this run did."""
    repos = len(plans)
    pages = 0
    batches = 0
    for plan in plans:
        pages += max(1, math.ceil(plan.images_scanned / PAGE))
        ids: Counter[int] = Counter()
        for action in plan.actions:
            ids[action.phase] += 1 if action.kind is ActionKind.DELETE_IMAGE else len(action.tags)
        batches += sum(math.ceil(n / BATCH) for n in ids.values())
    return {
        "DescribeRepositories": max(1, math.ceil(repos / PAGE)),
        "DescribeImages": pages + batches,
        "BatchGetImage": indexes_read,
        "BatchDeleteImage": batches,
    }


def index_batches(sandbox: Sandbox, cache: ManifestCache | None = None) -> int:
    """BatchGetImage calls needed: per repository, its indexes not yet cached, by 100."""
    calls = 0
    cache = cache if cache is not None else ManifestCache()
    with sandbox.store.lock:
        for registry in sandbox.store._registries.values():  # bench-only peek
            for repo in registry.values():
                known = cache.known(RepositoryRef(repo.region, repo.registry_id, repo.name))
                fresh = [d for d, i in repo.images.items() if i.is_index and d not in known]
                calls += math.ceil(len(fresh) / BATCH)
    return calls


def run(
    sandbox: Sandbox,
    *,
    concurrency: int | None = None,
    dry_run: bool = False,
    cache: ManifestCache | None = None,
    **extra: Any,
) -> Outcome:
    cache = cache if cache is not None else ManifestCache()
    config = load_config_text(policy(concurrency))
    expected_index_reads = index_batches(sandbox, cache)
    sandbox.faults.calls.clear()
    started = time.perf_counter()
    result = run_once(config, Clients(), NOW, RunOptions(dry_run=dry_run, cache=cache, **extra))
    seconds = time.perf_counter() - started
    plans = list(result.report.repositories)
    return Outcome(
        seconds=seconds,
        calls=dict(sandbox.faults.calls),
        minimum=minimum_calls(plans, expected_index_reads),
        plans=plans,
        exit_code=result.exit_code,
    )
