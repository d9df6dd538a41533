"""A small, realistic registry for `ecr-cleaner demo` and `ecr-cleaner sandbox --seed demo`."""

from __future__ import annotations

from datetime import datetime, timedelta

from cleaner.sandbox.seed import Seeder
from cleaner.sandbox.store import Store


def seed_demo(store: Store, now: datetime) -> None:
    """Feature-branch builds, releases, untagged leftovers, multi-arch images with
    attestations, cosign signatures, and an old image that was pulled yesterday."""
    day = timedelta(days=1)
    seeder = Seeder(store)

    api = seeder.repository("team-a/api")
    for n in range(12):
        for branch in ("login", "search"):
            api.image([f"feature-{branch}-{n}"], pushed_at=now - (40 - 3 * n) * day)
    for minor in range(6):
        release = api.image([f"v1.{minor}.0"], pushed_at=now - (200 - 30 * minor) * day)
        api.cosign(release, pushed_at=now - (200 - 30 * minor) * day)
    api.image(["latest", "v1.6.0"], pushed_at=now - 2 * day)
    for n in range(8):
        api.image(pushed_at=now - (60 - n) * day)
    api.image(["legacy-batch"], pushed_at=now - 400 * day, last_pulled=now - day)

    web = seeder.repository("team-a/web")
    for n in range(5):
        web.index([f"2026.{n + 1}"], attestations=True, pushed_at=now - (150 - 30 * n) * day)
    web.index(["latest"], attestations=True, pushed_at=now - day)

    base = seeder.repository("team-a/base-images")
    for n in range(4):
        base.image([f"bookworm-{n}"], pushed_at=now - (300 - 60 * n) * day)
