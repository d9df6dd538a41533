"""A large registry of a realistic mix, for trying the cleaner at scale
(`ecr-cleaner sandbox --seed bulk:50x2000`) and for the benchmarks.

Per 10 builds: a multi-arch index (2 platforms + 2 attestations), 4 feature-branch
builds, a release with its cosign signature, an untagged leftover (one in a thousand
tagged `latest`) and 3 builds no rule of the example policy selects; pushed over the
200 days before `now`. docs/examples/bulk.yaml expires about 30% of it.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cleaner.sandbox.seed import RepoSeeder, Seeder
from cleaner.sandbox.store import Store

# More than this many images in all would take minutes to seed and gigabytes to hold.
MAX_IMAGES = 2_000_000
_BULK = re.compile(r"bulk:([0-9]+)x([0-9]+)")


@dataclass(frozen=True)
class BulkSeed:
    repositories: int
    images: int  # per repository (a little more: an index brings its children)


def parse_bulk(text: str) -> BulkSeed:
    """`bulk:REPOSITORIESxIMAGES`, both at least 1; ValueError says what is wrong."""
    match = _BULK.fullmatch(text)
    if match is None:
        raise ValueError(f"expected bulk:REPOSITORIESxIMAGES, like bulk:50x2000 (got {text!r})")
    seed = BulkSeed(int(match[1]), int(match[2]))
    if seed.repositories < 1 or seed.images < 1:
        raise ValueError(f"{text}: repositories and images must be at least 1")
    if seed.repositories * seed.images > MAX_IMAGES:
        raise ValueError(f"{text}: at most {MAX_IMAGES:,} images in all")
    return seed


def seed_option(text: str) -> str:
    """`sandbox --seed`: demo or bulk:REPOSxIMAGES, checked while the arguments are
    parsed, so a typo exits 2 before the sandbox starts."""
    if text == "demo":
        return text
    if not text.startswith("bulk:"):
        raise argparse.ArgumentTypeError(f"expected demo or bulk:REPOSxIMAGES (got {text!r})")
    try:
        parse_bulk(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return text


def seed_named(store: Store, seed: str, now: datetime, say: Callable[[str], None]) -> None:
    """Seed what `--seed` names (see seed_option)."""
    if seed == "demo":
        from cleaner.sandbox.demo import seed_demo

        seed_demo(store, now)
        return
    bulk = parse_bulk(seed)
    say(f"seeding {bulk.repositories:,} repositories of about {bulk.images:,} images ...")
    images = seed_registry(store, bulk.repositories, bulk.images, now)
    say(f"seeded {images:,} images (docs/examples/bulk.yaml expires about 30% of them)")


def seed_repository(repo: RepoSeeder, images: int, now: datetime) -> None:
    k = 0
    while len(repo.repo.images) < images:
        age = timedelta(days=(k * 7919) % 200 + (k % 24) / 24)
        at = now - age
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


def seed_registry(store: Store, repositories: int, images: int, now: datetime) -> int:
    """`repositories` repositories (team/service-0000, ...) of about `images` images;
    returns the image count."""
    seeder = Seeder(store)
    total = 0
    for n in range(repositories):
        repo = seeder.repository(f"team/service-{n:04d}")
        seed_repository(repo, images, now)
        total += len(repo.repo.images)
    return total
