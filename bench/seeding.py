"""Seed the sandbox with the benchmarks' registries: the realistic mix of
cleaner/sandbox/bulk.py (which `ecr-cleaner sandbox --seed bulk:RxI` seeds too), pushed
before bench.common.NOW. bench.common.POLICY expires ~30%."""

from __future__ import annotations

from datetime import timedelta

from bench.common import NOW
from cleaner.sandbox import RepoSeeder, Store, bulk
from cleaner.sandbox.seed import Seeder


def seed_repository(repo: RepoSeeder, images: int) -> None:
    bulk.seed_repository(repo, images, NOW)


def seed_registry(store: Store, repositories: int, images: int) -> int:
    """`repositories` repositories of about `images` images; returns the image count."""
    return bulk.seed_registry(store, repositories, images, NOW)


def seed_plain(store: Store, repositories: int, images: int) -> int:
    """`repositories` repositories of exactly `images` tagged single-platform images, all
    pushed between 100 and 30 days before bench.common.NOW; returns the image count."""
    seeder = Seeder(store)
    step = timedelta(days=70) / max(images, 1)
    for n in range(repositories):
        repo = seeder.repository(f"team/archive-{n:04d}")
        repo.bulk(images, start=NOW - timedelta(days=100), step=step, size=1_000_000)
    return repositories * images
