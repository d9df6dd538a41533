"""Seed the sandbox with registries shaped like bench/synthetic.py's, through the
seeding API's fast path: per 10 builds a multi-arch index (2 platforms + 2
attestations), 4 feature-branch builds, a release with its cosign signature, an
untagged leftover and 3 builds no rule selects. bench.common.POLICY expires ~30%."""

from __future__ import annotations

from datetime import timedelta

from bench.common import NOW
from cleaner.sandbox import RepoSeeder, Store
from cleaner.sandbox.seed import Seeder


def seed_repository(repo: RepoSeeder, images: int) -> None:
    k = 0
    while len(repo.repo.images) < images:
        age = timedelta(days=(k * 7919) % 200 + (k % 24) / 24)
        at = NOW - age
        kind = k % 10
        if kind == 0:
            repo.index(
                [f"feature-b{k % 8}-{k}"], attestations=True, pushed_at=at, child_size=1_000_000
            )
        elif kind in (1, 2, 3, 4):
            repo.image([f"feature-b{k % 8}-{k}"], pushed_at=at, size=1_000_000, layers=1)
        elif kind == 5:
            release = repo.image(
                [f"v{k // 100}.{k % 10}.{k % 7}"], pushed_at=at, size=1_000_000, layers=1
            )
            repo.cosign(release, pushed_at=at)
        elif kind == 6:
            tags = ["latest"] if k % 1000 == 6 else []
            repo.image(tags, pushed_at=at, size=1_000_000, layers=1)
        else:
            repo.image([f"build-{k}"], pushed_at=at, size=1_000_000, layers=1)
        k += 1


def seed_registry(store: Store, repositories: int, images: int) -> int:
    """`repositories` repositories of about `images` images; returns the image count."""
    seeder = Seeder(store)
    total = 0
    for n in range(repositories):
        repo = seeder.repository(f"team/service-{n:04d}")
        seed_repository(repo, images)
        total += len(repo.repo.images)
    return total


def seed_plain(store: Store, repositories: int, images: int) -> int:
    """`repositories` repositories of exactly `images` tagged single-platform images, all
    pushed between 100 and 30 days before bench.common.NOW; returns the image count."""
    seeder = Seeder(store)
    step = timedelta(days=70) / max(images, 1)
    for n in range(repositories):
        repo = seeder.repository(f"team/archive-{n:04d}")
        repo.bulk(images, start=NOW - timedelta(days=100), step=step, size=1_000_000)
    return repositories * images
