"""A repository a target names literally that does not exist: a typo must be seen
(report entry, run-level warning, log event) without failing the run."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cleaner.cli import main
from cleaner.sandbox import Sandbox, Seeder

NOW = datetime(2027, 1, 1, tzinfo=UTC)
OLD = NOW - timedelta(days=30)
ACCOUNT = "123456789012"

POLICY = """
version: 1
targets:
  - region: us-east-1
    repositories: REPOSITORIES
policies:
  - name: team-a
    repositories: ["team-a/*"]
    rules: [{name: untagged, select: {tag_status: untagged}, expire: {pushed_before: 1d}}]
"""


def entry(name: str, error: str | None, scanned: int) -> dict[str, Any]:
    return {"repository": name, "error": error, "images_scanned": scanned, "policy": "team-a"}


NOT_FOUND = "repository team-a/apii not found in us-east-1/123456789012"
API = entry("team-a/api", None, 2)
MISSING = entry("team-a/apii", "repository not found", 0)

# fmt: off
CASES = [
    # the target's repositories, the report's entries, its warnings
    pytest.param('["team-a/api", "team-a/apii"]', [API, MISSING], [NOT_FOUND], id="typo"),
    pytest.param('["team-a/apii", "team-a/*"]', [API, MISSING], [NOT_FOUND], id="beside-a-glob"),
    pytest.param('["team-a/api"]', [API], [], id="exists"),
    pytest.param('["team-a/api", "team-a/none-*"]', [API], [], id="a-glob-matching-nothing"),
    pytest.param('["team-a/api", "team-a/apii", "!team-a/apii"]', [API], [], id="excluded"),
    pytest.param('["team-a/api", "other/apii"]', [API], [], id="no-policy-matches-it"),
]
# fmt: on


@pytest.mark.parametrize(("repositories", "entries", "warnings"), CASES)
def test_a_literal_repository_that_does_not_exist_is_reported_not_failed(
    sb: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    repositories: str,
    entries: list[dict[str, Any]],
    warnings: list[str],
) -> None:
    api = Seeder(sb.store).repository("team-a/api")
    kept = api.image(["v1"], pushed_at=OLD)
    api.image(pushed_at=OLD)  # an untagged leftover: the run still cleans what exists
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.replace("REPOSITORIES", repositories))
    report_path = tmp_path / "report.json"
    args = ["--config", str(policy), "--now", NOW.isoformat(), "--log-format", "json"]

    code = main(["run", *args, "--report", str(report_path)])

    assert code == 0
    report = json.loads(report_path.read_text())
    fields = ("repository", "error", "images_scanned", "policy")
    assert [{k: r[k] for k in fields} for r in report["repositories"]] == entries
    assert report.get("warnings", []) == warnings
    assert report["summary"]["failures"] == 0
    assert api.snapshot() == {kept: ("v1",)}
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    found = [e for e in events if e["event"] == "repository_not_found"]
    expected = [{"repository": "team-a/apii", "region": "us-east-1", "registry_id": ACCOUNT}] * len(
        warnings
    )
    assert [{k: e[k] for k in ("repository", "region", "registry_id")} for e in found] == expected
    assert all(e["level"] == "warning" for e in found)


def test_plan_table_shows_the_missing_repository_and_the_warning(
    sb: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Seeder(sb.store).repository("team-a/api").image(["v1"], pushed_at=OLD)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.replace("REPOSITORIES", '["team-a/api", "team-a/apii"]'))

    code = main(["plan", "--config", str(policy), "--now", NOW.isoformat(), "--log-level", "error"])

    assert code == 0
    table = capsys.readouterr().out
    assert (
        f"== us-east-1 {ACCOUNT} team-a/apii (policy team-a)\n"
        "   0 images scanned: would delete 0 images and 0 tags (0 B)\n"
        "   ! repository not found\n" in table
    )
    assert f"WARNING: {NOT_FOUND}\n" in table
