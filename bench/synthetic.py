"""Synthetic inventories for the pure planner benchmark (no sandbox, no I/O).

Per 10 builds: a multi-arch index (2 platform children + 2 attestations), 4
feature-branch builds over 8 branches, a semver release with its cosign signature, an
untagged leftover and 3 tagged builds no rule selects; ages spread over 200 days.
With bench.common.POLICY about 30% of the images are deleted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta

from bench.common import NOW
from cleaner.core.model import Image, Inventory, RepositoryRef

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _digest(repo: int, n: int) -> str:
    return "sha256:" + hashlib.sha256(f"{repo}/{n}".encode()).hexdigest()


def inventory(repo: int, size: int) -> Inventory:
    """About `size` images in repository number `repo`."""
    images: dict[str, Image] = {}
    children: dict[str, tuple[str, ...]] = {}
    n = 0

    def add(tags: tuple[str, ...], age_days: float, media: str = MANIFEST) -> str:
        nonlocal n
        digest = _digest(repo, n)
        n += 1
        images[digest] = Image(digest, tags, NOW - timedelta(days=age_days), None, 1_000_000, media)
        return digest

    k = 0
    while len(images) < size:
        age = (k * 7919) % 200 + (k % 24) / 24
        kind = k % 10
        if kind == 0:  # multi-arch index: 2 platforms + 2 attestations
            parts = tuple(add((), age) for _ in range(4))
            index = add((f"feature-b{k % 8}-{k}",), age, INDEX)
            children[index] = parts
        elif kind in (1, 2, 3, 4):
            add((f"feature-b{k % 8}-{k}",), age)
        elif kind == 5:
            release = add((f"v{k // 100}.{k % 10}.{k % 7}",), age)
            add((release.replace(":", "-") + ".sig",), age)
        elif kind == 6:
            add(("latest",) if k % 1000 == 6 else (), age)
        else:  # tagged builds no rule selects
            add((f"build-{k}",), age)
        k += 1
    return Inventory(RepositoryRef("us-east-1", "123456789012", f"repo-{repo}"), images, children)


def inventories(repositories: int, per_repository: int) -> Iterator[Inventory]:
    for repo in range(repositories):
        yield inventory(repo, per_repository)
