"""Seed the sandbox with the benchmarks' registries: the realistic mix of
cleaner/sandbox/bulk.py (which `ecr-cleaner sandbox --seed bulk:RxI` seeds too), pushed
before bench.common.NOW. bench.common.POLICY expires ~30%."""

from __future__ import annotations

from bench.common import NOW
from cleaner.sandbox import RepoSeeder, Store, bulk


def seed_repository(repo: RepoSeeder, images: int) -> None:
    bulk.seed_repository(repo, images, NOW)


def seed_registry(store: Store, repositories: int, images: int) -> int:
    """`repositories` repositories of about `images` images; returns the image count."""
    return bulk.seed_registry(store, repositories, images, NOW)
