"""`ecr-cleaner restore` against the sandbox: undo a run, or restore images by name."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cleaner.aws.clients import Clients
from cleaner.cli import main
from cleaner.config.load import load_config_text
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import run_once
from cleaner.run.restore import by_name
from cleaner.run.restore import restore as restore_images
from cleaner.sandbox import RepoSeeder, Sandbox

NOW = datetime(2027, 1, 1, tzinfo=UTC)
OLD = NOW - timedelta(days=30)
POLICY = """
version: 1
targets: [{region: us-east-1}]
policies:
  - name: quarantine
    protect: {keep_at_least: 0}
    rules:
      - name: stale
        expire: {pushed_before: 7d}
        action: archive
"""


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return path


@pytest.fixture
def clock(sb: Sandbox) -> list[datetime]:
    """The sandbox's clock, an hour before the policy's `now`; tests move it by hand."""
    now = [NOW - timedelta(hours=1)]
    sb.store.clock = lambda: now[0]
    return now


def archive_run(policy: Path, tmp_path: Path) -> Path:
    report = tmp_path / "report.json"
    args = ["run", "--config", str(policy), "--report", str(report), "--now", NOW.isoformat()]
    assert main([*args, "--log-format", "json"]) == 0
    return report


def restore(capsys: pytest.CaptureFixture[str], policy: Path, *args: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = main(["restore", "--config", str(policy), "--format", "json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.startswith("{") else out


def statuses(repo: RepoSeeder) -> dict[str, str]:
    return {d: i.status for d, i in repo.repo.images.items()}


def test_restore_report_brings_back_everything_the_run_archived(
    sb: Sandbox,
    repo: RepoSeeder,
    policy: Path,
    tmp_path: Path,
    clock: list[datetime],
    capsys: pytest.CaptureFixture[str],
) -> None:
    index = repo.index(["multi"], pushed_at=OLD)
    single = repo.image(["v1"], pushed_at=OLD)
    fresh = repo.image(["fresh"], pushed_at=NOW)
    report = archive_run(policy, tmp_path)
    archived = {index.digest, *index.children, single}
    assert {d for d, s in statuses(repo).items() if s == "ARCHIVED"} == archived

    seen: list[dict[str, str]] = []
    for n in range(1, len(archived) + 1):  # the registry after each restore call
        sb.faults.after_call("UpdateImageStorageClass", n, lambda s: seen.append(statuses(repo)))
    code, out = restore(capsys, policy, "--report", str(report))
    assert code == 0
    assert {i["digest"]: (i["result"], i["status"]) for i in out["images"]} == {
        d: ("restored", "ACTIVATING") for d in archived
    }
    assert out["summary"] == {
        "images": 4,
        "restored": 4,
        "already_active": 0,
        "already_activating": 0,
        "failed": 0,
    }
    tags = {i["digest"]: i["tags"] for i in out["images"]}
    assert (tags[index.digest], tags[single]) == (["multi"], ["v1"])
    # Platform images first: the index never names an archived image once it is restored.
    for after in seen:
        if after[index.digest] == "ACTIVATING":
            assert {after[c] for c in index.children} == {"ACTIVATING"}
    assert statuses(repo)[fresh] == "ACTIVE"

    code, out = restore(capsys, policy, "--report", str(report))
    assert code == 0
    assert {i["result"] for i in out["images"]} == {"already activating"}
    clock[0] += timedelta(minutes=20)
    code, out = restore(capsys, policy, "--report", str(report))
    assert {(i["result"], i["status"]) for i in out["images"]} == {("already active", "ACTIVE")}
    assert sb.faults.calls["UpdateImageStorageClass"] == 4 + 4  # archived, then restored once


def test_a_restored_image_is_not_archived_again_by_the_same_rule(
    sb: Sandbox, repo: RepoSeeder, policy: Path, tmp_path: Path, clock: list[datetime]
) -> None:
    digest = repo.image(["v1"], pushed_at=OLD)
    report = archive_run(policy, tmp_path)
    assert main(["restore", "--config", str(policy), "--report", str(report)]) == 0
    clock[0] += timedelta(minutes=20)
    result = run_once(load_config_text(POLICY), Clients(), NOW, RunOptions(dry_run=False))
    assert result.report.repositories[0].actions == ()
    assert statuses(repo)[digest] == "ACTIVE"


def test_restore_by_name_reports_each_image(
    sb: Sandbox, repo: RepoSeeder, policy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archived = repo.image(["v1"], pushed_at=OLD)
    repo.archive(archived)
    active = repo.image(["v2"], pushed_at=OLD)
    missing = "sha256:" + "0" * 64
    code, out = restore(
        capsys, policy, "--repository", "app", "--digest", archived, active, missing
    )
    assert code == 1
    assert [(i["digest"], i["result"], i["status"], i["failure_code"]) for i in out["images"]] == [
        (archived, "restored", "ACTIVATING", None),
        (active, "already active", "ACTIVE", None),
        (missing, "failed", None, "ImageNotFound"),
    ]
    assert sb.faults.calls["UpdateImageStorageClass"] == 1


def test_the_table_says_when_images_will_be_pullable(
    repo: RepoSeeder, policy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    digest = repo.image(["v1"], pushed_at=OLD)
    repo.archive(digest)
    assert (
        main(["restore", "--config", str(policy), "--repository", "app", "--digest", digest]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "region",
        "registry",
        "repository",
        "digest",
        "tags",
        "now",
        "result",
    ]
    assert lines[1].split() == [
        "us-east-1",
        "default",
        "app",
        digest[:19],
        "v1",
        "ACTIVATING",
        "restored",
    ]
    assert lines[2:] == [
        "1 images: 1 restored, 0 already active, 0 already activating, 0 failed",
        "ECR makes a restored image ACTIVE (pullable) within about 20 minutes.",
    ]


def test_a_report_that_archived_nothing_restores_nothing(
    sb: Sandbox, repo: RepoSeeder, policy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.image(["v1"], pushed_at=OLD)
    plan = tmp_path / "plan.json"
    args = ["--format", "json", "--output", str(plan), "--now", NOW.isoformat()]
    assert main(["plan", "--config", str(policy), *args]) == 0
    assert json.loads(plan.read_text())["repositories"][0]["actions"][0]["kind"] == "archive_image"
    capsys.readouterr()
    assert main(["restore", "--config", str(policy), "--report", str(plan)]) == 0
    assert capsys.readouterr().out == "nothing to restore: no image was archived\n"
    assert sb.faults.calls["UpdateImageStorageClass"] == 0


TWO_REGIONS = (
    "version: 1\ntargets: [{regions: [us-east-1, eu-west-1]}]\npolicies: [{name: p, rules: []}]\n"
)


@pytest.mark.parametrize(
    ("config", "args", "error"),
    [
        pytest.param(
            TWO_REGIONS,
            ["--repository", "app", "--digest", "sha256:" + "a" * 64],
            "the config's targets are in eu-west-1, us-east-1: say --region",
            id="which-region",
        ),
        pytest.param(
            POLICY,
            ["--repository", "app", "--digest", "latest"],
            "--digest latest: not an image digest like sha256:<hex>",
            id="not-a-digest",
        ),
        pytest.param(
            POLICY, ["--repository", "app"], "--repository needs --digest DIGEST...", id="no-digest"
        ),
        pytest.param(
            POLICY,
            ["--repository", "app", "--region", "eu-west-1", "--digest", "sha256:" + "a" * 64],
            "no target of the config is in eu-west-1",
            id="no-target",
        ),
        pytest.param(
            POLICY, ["--report", "REPORT"], "not an ecr-cleaner JSON report", id="bad-report"
        ),
        pytest.param(
            POLICY.replace("us-east-1", "eu-west-1"),
            ["--report", "ARCHIVED"],
            "--report ARCHIVED: images in us-east-1/123456789012 (app), which no target",
            id="report-outside-the-targets",
        ),
    ],
)
def test_bad_input_is_a_usage_error_and_touches_nothing(
    sb: Sandbox,
    repo: RepoSeeder,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    config: str,
    args: list[str],
    error: str,
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    repo.image(["v1"], pushed_at=OLD)
    archived = archive_run(path, tmp_path) if "ARCHIVED" in args else None
    path.write_text(config)
    bad = tmp_path / "bad.json"
    bad.write_text('{"mode": "run"}')
    args = [str(bad) if a == "REPORT" else a for a in args]
    args = [str(archived) if a == "ARCHIVED" else a for a in args]
    error = error.replace("ARCHIVED", str(archived))
    capsys.readouterr()
    sb.faults.calls.clear()
    assert main(["restore", "--config", str(path), *args]) == 2
    assert error in capsys.readouterr().err
    assert sb.faults.calls["UpdateImageStorageClass"] == 0


def test_restore_needs_report_or_repository(
    policy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["restore", "--config", str(policy)])
    assert exit_info.value.code == 2
    assert "one of the arguments --report --repository is required" in capsys.readouterr().err


def test_restoring_a_whole_run_is_paced_and_concurrent(sb: Sandbox, repo: RepoSeeder) -> None:
    digests = repo.bulk(40, start=OLD, tag_every=0)
    for digest in digests:
        repo.archive(digest)
    config = load_config_text(POLICY + "limits: {concurrency: 3}\n")
    sb.faults.add_latency("UpdateImageStorageClass", 0.005)
    results = restore_images(
        by_name(config, "app", digests, region=None, registry_id=None), Clients(), config
    )
    assert {r.result for r in results} == {"restored"}
    assert 1 < sb.faults.peak["UpdateImageStorageClass"] <= 3
    assert sb.faults.calls["DescribeImages"] == 1
