"""A target whose repositories cannot be listed is a failed target, not a repository:
the table says so, the summary does not count it, the JSON keeps it with its error."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cleaner.cli import main
from cleaner.sandbox import Sandbox, Seeder

NOW = datetime(2027, 1, 1, tzinfo=UTC)
ERROR = "cannot list repositories: AccessDeniedException: injected by the sandbox"

# One thread: us-east-1 is listed first, then eu-west-1 (which the sandbox refuses).
POLICY = """
version: 1
targets: [{region: us-east-1}, {region: eu-west-1}]
policies:
  - name: untagged
    rules: [{name: untagged, select: {tag_status: untagged}, expire: {pushed_before: 1d}}]
limits: {concurrency: 1}
"""


@pytest.fixture
def policy(sb: Sandbox, tmp_path: Path) -> Path:
    repo = Seeder(sb.store).repository("app")
    repo.image(["v1"], pushed_at=NOW - timedelta(days=2))
    repo.image(pushed_at=NOW - timedelta(days=3))
    sb.faults.after_call(
        "DescribeRepositories", 1, lambda store: sb.reject("ecr", "DescribeRepositories")
    )
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return path


def test_table_shows_a_failed_target_and_counts_only_repositories(
    policy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "--config", str(policy), "--now", NOW.isoformat(), "--log-level", "error"])
    assert code == 1
    lines = capsys.readouterr().out.splitlines()
    assert f"== target eu-west-1/default: FAILED: {ERROR}" in lines
    assert not [line for line in lines if line.startswith("== eu-west-1")]
    assert lines[-3] == (
        "1 repository, 2 images scanned: deleted 1 image and 0 tags (9.5 MiB); 1 failure"
    )
    assert lines[-2].startswith("Estimated savings: ")


def test_json_keeps_the_failed_target_with_its_error(policy: Path, tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    args = ["run", "--config", str(policy), "--now", NOW.isoformat(), "--report", str(report_path)]
    assert main([*args, "--log-level", "error"]) == 1
    report = json.loads(report_path.read_text())
    entries = [
        (r["region"], r["registry_id"], r["repository"], r["error"]) for r in report["repositories"]
    ]
    assert entries == [
        ("eu-west-1", "default", "*", ERROR),
        ("us-east-1", "123456789012", "app", None),
    ]
    assert (report["summary"]["repositories"], report["summary"]["failures"]) == (1, 1)


def test_markdown_shows_the_failed_target(policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["plan", "--config", str(policy), "--now", NOW.isoformat(), "--format", "markdown"]
    assert main([*args, "--log-level", "error"]) == 1
    text = capsys.readouterr().out
    assert f"## Target `eu-west-1/default`: FAILED\n\n> {ERROR}\n" in text
    assert "**1 repository, 2 images scanned: would delete 1 image" in text
