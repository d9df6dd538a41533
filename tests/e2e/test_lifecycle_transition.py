"""An ECR lifecycle policy's `transition` rule archives, end to end over HTTP: the same
path, safety and report as `action: archive`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cleaner.cli import main
from cleaner.sandbox import RepoSeeder, Sandbox

NOW = datetime(2027, 1, 1, tzinfo=UTC)
QUARANTINE = {
    "rules": [
        {
            "rulePriority": 1,
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 7,
            },
            "action": {"type": "transition", "targetStorageClass": "archive"},
        }
    ]
}


def test_a_transition_rule_archives_what_the_plan_listed_and_nothing_else(
    sb: Sandbox, repo: RepoSeeder, tmp_path: Path
) -> None:
    old = {repo.image(pushed_at=NOW - timedelta(days=30, minutes=n)) for n in range(5)}
    fresh = repo.image(pushed_at=NOW - timedelta(days=1))
    tagged = repo.image(["v1"], pushed_at=NOW - timedelta(days=30))
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\ntargets: [{region: us-east-1}]\npolicies:\n"
        f"  - name: p\n    protect: {{keep_at_least: 0}}\n"
        f"    lifecycle_policy: {json.dumps(QUARANTINE)}\n"
    )
    base = ["--config", str(policy), "--now", NOW.isoformat()]
    plan_file, report_file = tmp_path / "plan.json", tmp_path / "report.json"
    assert main(["plan", *base, "--format", "json", "--output", str(plan_file)]) == 0
    planned = json.loads(plan_file.read_text())["repositories"][0]["actions"]
    assert {a["digest"] for a in planned} == old
    assert {(a["kind"], a["rule"]) for a in planned} == {("archive_image", "lifecycle rule 1")}
    assert sb.faults.calls["UpdateImageStorageClass"] == 0

    assert main(["run", *base, "--report", str(report_file)]) == 0
    report = json.loads(report_file.read_text())
    assert {a["status"] for a in report["repositories"][0]["actions"]} == {"archived"}
    assert report["summary"]["images_archived"] == 5
    images = repo.repo.images
    assert {images[d].status for d in old} == {"ARCHIVED"}
    assert images[fresh].status == images[tagged].status == "ACTIVE"
    assert len(images) == 7  # archived, not deleted
