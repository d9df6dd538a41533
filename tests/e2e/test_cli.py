"""The CLI end to end against the sandbox: exit codes 0/1/2/3, report shapes, logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cleaner.cli import main
from cleaner.sandbox import RepoSeeder, Sandbox

NOW = datetime(2027, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)

POLICY = """
version: 1
targets:
  - region: us-east-1
    repositories: ["*"]
policies:
  - name: services
    protect:
      tags: [latest]
    rules:
      - name: old-builds
        select: {tag_status: tagged, tags: ["build-*"]}
        keep: {most_recent: 2}
        expire: {pushed_before: 10d}
      - name: untagged
        select: {tag_status: untagged}
        expire: {pushed_before: 1d}
limits:
  max_deletions: {max_deletions}
"""


def write_policy(tmp_path: Path, max_deletions: int = 1000) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY.replace("{max_deletions}", str(max_deletions)))
    return path


def seed(repo: RepoSeeder) -> dict[str, str]:
    names = {}
    for n in range(5):  # build-0 oldest ... build-4 newest
        names[f"build-{n}"] = repo.image([f"build-{n}"], pushed_at=NOW - (50 - n) * DAY)
    names["latest"] = repo.image(["latest", "build-old"], pushed_at=NOW - 90 * DAY)
    names["untagged"] = repo.image(pushed_at=NOW - 30 * DAY)
    names["fresh"] = repo.image(pushed_at=NOW - 3600 * timedelta(seconds=1))
    return names


def cli(*args: str) -> int:
    return main([*args, "--now", NOW.isoformat(), "--log-format", "json"])


def test_plan_json_lists_the_stale_images_and_deletes_nothing(
    sb: Sandbox, repo: RepoSeeder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = seed(repo)
    before = repo.snapshot()
    assert cli("plan", "--config", str(write_policy(tmp_path)), "--format", "json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["mode"] == "plan"
    assert report["now"] == "2027-01-01T00:00:00+00:00"
    (entry,) = report["repositories"]
    deleted = {a["digest"] for a in entry["actions"] if a["kind"] == "delete_image"}
    assert deleted == {names["build-0"], names["build-1"], names["build-2"], names["untagged"]}
    removed = {a["digest"]: a["tags"] for a in entry["actions"] if a["kind"] == "remove_tag"}
    assert removed == {names["latest"]: ["build-old"]}
    assert {a["status"] for a in entry["actions"]} == {"planned"}
    assert report["summary"]["images_deleted"] == 4
    assert report["summary"]["tags_removed"] == 1
    assert repo.snapshot() == before
    assert sb.faults.calls["BatchDeleteImage"] == 0


def test_run_deletes_exactly_what_plan_listed(
    sb: Sandbox, repo: RepoSeeder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(repo)
    policy = str(write_policy(tmp_path))
    assert cli("plan", "--config", policy, "--format", "json") == 0
    planned = json.loads(capsys.readouterr().out)["repositories"][0]["actions"]
    report_path = tmp_path / "report.json"
    assert cli("run", "--config", policy, "--report", str(report_path)) == 0
    ran = json.loads(report_path.read_text())["repositories"][0]["actions"]
    assert [(a["digest"], a["kind"], a["tags"]) for a in ran] == [
        (a["digest"], a["kind"], a["tags"]) for a in planned
    ]
    assert {a["status"] for a in ran} == {"deleted"}
    remaining = repo.snapshot()
    assert not ({a["digest"] for a in ran if a["kind"] == "delete_image"} & set(remaining))
    assert "build-old" not in {t for tags in remaining.values() for t in tags}
    # A second run finds nothing more to do.
    assert cli("run", "--config", policy, "--report", str(report_path)) == 0
    assert json.loads(report_path.read_text())["summary"]["images_deleted"] == 0


def test_run_dry_run_writes_the_plan_report(sb: Sandbox, repo: RepoSeeder, tmp_path: Path) -> None:
    seed(repo)
    report_path = tmp_path / "dry.json"
    policy = str(write_policy(tmp_path))
    assert cli("run", "--config", policy, "--dry-run", "--report", str(report_path)) == 0
    report = json.loads(report_path.read_text())
    assert report["mode"] == "plan"
    assert report["summary"]["images_deleted"] == 4
    assert sb.faults.calls["BatchDeleteImage"] == 0


def test_exit_3_when_max_deletions_exceeded_and_nothing_deleted(
    sb: Sandbox, repo: RepoSeeder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(repo)
    before = repo.snapshot()
    policy = str(write_policy(tmp_path, max_deletions=2))
    assert cli("run", "--config", policy) == 3
    assert repo.snapshot() == before
    assert sb.faults.calls["BatchDeleteImage"] == 0
    assert "max_deletions" in capsys.readouterr().err
    assert cli("plan", "--config", policy, "--format", "json") == 0
    report = json.loads(capsys.readouterr().out)
    assert any("max_deletions" in w for w in report["warnings"])


def test_exit_1_when_a_deletion_fails(sb: Sandbox, repo: RepoSeeder, tmp_path: Path) -> None:
    names = seed(repo)
    sb.store.delete_failures[names["build-0"]] = "KmsError"
    report_path = tmp_path / "report.json"
    assert cli("run", "--config", str(write_policy(tmp_path)), "--report", str(report_path)) == 1
    report = json.loads(report_path.read_text())
    failed = [a for a in report["repositories"][0]["actions"] if a["status"] == "failed"]
    assert [(a["digest"], a["failure_code"]) for a in failed] == [(names["build-0"], "KmsError")]
    assert report["summary"]["failures"] == 1
    assert names["build-0"] in repo.snapshot()


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("version: 2\n", "version"),
        ("version: 1\ntargets: []\npolicies: []\n", "targets"),
        ("version: [\n", "policy.yaml"),
    ],
)
def test_exit_2_on_bad_config_and_nothing_touched(
    sb: Sandbox,
    repo: RepoSeeder,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    policy: str,
    message: str,
) -> None:
    seed(repo)
    path = tmp_path / "policy.yaml"
    path.write_text(policy)
    assert cli("run", "--config", str(path)) == 2
    assert message in capsys.readouterr().err
    assert sum(sb.faults.calls.values()) == 0


@pytest.mark.parametrize("bad_now", ["2027-01-01T00:00:00", "yesterday", "+7x"])
def test_exit_2_on_bad_now(tmp_path: Path, bad_now: str) -> None:
    policy = str(write_policy(tmp_path))
    assert main(["plan", "--config", policy, "--now", bad_now]) == 2


def test_exit_2_without_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECR_CLEANER_CONFIG", raising=False)
    assert main(["plan"]) == 2


def test_config_from_environment(
    sb: Sandbox, repo: RepoSeeder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(repo)
    monkeypatch.setenv("ECR_CLEANER_CONFIG", str(write_policy(tmp_path)))
    assert main(["validate"]) == 0


def test_one_log_event_per_deletion_and_a_summary(
    sb: Sandbox, repo: RepoSeeder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(repo)
    assert cli("run", "--config", str(write_policy(tmp_path))) == 0
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    deletions = [e for e in events if e["event"] == "image_deleted"]
    assert len(deletions) == 4
    for event in deletions:
        assert {"repository", "digest", "tags", "rule", "reason", "dry_run"} <= set(event)
        assert event["dry_run"] is False
    summaries = [e for e in events if e["event"] == "run_finished"]
    assert len(summaries) == 1 and summaries[0]["images_deleted"] == 4
