"""Seed the sandbox with each worked example's registry and print `ecr-cleaner plan`.

.venv/bin/python docs/examples/show.py feature-branches|untagged|releases
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cleaner.cli import main
from cleaner.sandbox import Sandbox, Seeder

NOW = datetime(2027, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def seed(example: str, seeder: Seeder) -> None:
    repo = seeder.repository("team-a/api")
    if example == "feature-branches":
        for branch, builds in (("login", 4), ("search", 2)):
            for n in range(builds):
                repo.image([f"feature-{branch}-{n}"], pushed_at=NOW - (40 - 10 * n) * DAY)
        repo.image(["latest", "v1.4.0", "feature-login-old"], pushed_at=NOW - 60 * DAY)
    elif example == "untagged":
        repo.index(["v2.0.0"], attestations=True, pushed_at=NOW - 90 * DAY)
        repo.image(pushed_at=NOW - 5 * DAY)
        repo.image(pushed_at=NOW - 12 * timedelta(hours=1))
    elif example == "releases":
        for minor in range(12):
            pulled = NOW - 3 * DAY if minor == 0 else None
            repo.image(
                [f"v1.{minor}.0"], pushed_at=NOW - (400 - 30 * minor) * DAY, last_pulled=pulled
            )
        repo.image(["nightly"], pushed_at=NOW - 500 * DAY)


def show(example: str) -> int:
    config = Path(__file__).with_name(f"{example}.yaml")
    with Sandbox() as sandbox:
        os.environ.update(sandbox.environment())
        # The table fits the terminal; docs/examples.md shows it as a 120-column one would.
        os.environ["COLUMNS"] = "120"
        seed(example, Seeder(sandbox.store))
        return main(
            ["plan", "--config", str(config), "--now", NOW.isoformat(), "--log-level", "error"]
        )


if __name__ == "__main__":
    raise SystemExit(show(sys.argv[1]))
