"""A rule that removes more than 100 tags of one image: the removal is split over
BatchDeleteImage calls, and `plan` (a dry run) must report what `run` then does."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cleaner.cli import main
from cleaner.sandbox import RepoSeeder, Sandbox

NOW = datetime(2027, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)

POLICY = """
version: 1
targets: [{region: us-east-1}]
policies:
  - name: builds
    protect: {tags: [keep-*]}
    rules:
      - {name: builds, select: {tag_status: tagged, tags: ["build-*"]}, expire: {pushed_before: 7d}}
"""


def counts(report: dict[str, Any], status: str) -> dict[str, object]:
    (entry,) = report["repositories"]
    actions = [a for a in entry["actions"] if a["status"] == status]
    return {
        "actions": [(a["kind"], a["digest"], a["tags"]) for a in actions],
        "other_statuses": sorted({a["status"] for a in entry["actions"]} - {status}),
        "tags_removed": report["summary"]["tags_removed"],
        "images_deleted": report["summary"]["images_deleted"],
    }


@pytest.mark.parametrize("stale", [101, 150, 250])
def test_plan_and_run_agree_on_a_tag_removal_split_over_batches(
    sb: Sandbox, repo: RepoSeeder, tmp_path: Path, capsys: pytest.CaptureFixture[str], stale: int
) -> None:
    builds = [f"build-{n:03}" for n in range(stale)]
    kept_tags = ["keep-a", "keep-b"]
    digest = repo.image([*builds, *kept_tags], pushed_at=NOW - 30 * DAY)
    other = repo.image(["build-new", "keep-c"], pushed_at=NOW - DAY)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    args = ["--config", str(policy), "--now", NOW.isoformat(), "--log-format", "json"]

    assert main(["plan", *args, "--format", "json"]) == 0
    planned = json.loads(capsys.readouterr().out)
    dry = tmp_path / "dry.json"
    assert main(["run", *args, "--dry-run", "--report", str(dry)]) == 0
    assert repo.snapshot() == {
        digest: tuple(sorted(builds + kept_tags)),
        other: ("build-new", "keep-c"),
    }
    ran_path = tmp_path / "run.json"
    assert main(["run", *args, "--report", str(ran_path)]) == 0
    ran = json.loads(ran_path.read_text())

    expected = {
        "actions": [("remove_tag", digest, sorted(builds))],
        "other_statuses": [],
        "tags_removed": stale,
        "images_deleted": 0,
    }
    assert counts(planned, "planned") == expected
    assert counts(json.loads(dry.read_text()), "planned") == expected
    assert counts(ran, "deleted") == expected
    assert repo.snapshot() == {digest: ("keep-a", "keep-b"), other: ("build-new", "keep-c")}
