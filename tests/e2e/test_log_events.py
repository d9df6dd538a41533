"""Logs that match the mode: a plan's output is its report, so what it would do is
logged at debug level only; a run logs each deletion; both log run_started, one
repository_done per repository and run_finished. Also: progress counts of a real run,
and what `run` prints by default."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cleaner.aws.clients import Clients
from cleaner.cli import main
from cleaner.config.load import load_config
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import run_once
from cleaner.run.progress import Progress, Snapshot
from cleaner.sandbox import Sandbox, Seeder

NOW = datetime(2027, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = """
version: 1
targets: [{region: us-east-1}]
policies:
  - name: services
    protect: {tags: [latest]}
    rules:
      - name: old-builds
        select: {tag_status: tagged, tags: ["build-*"]}
        keep: {most_recent: 2}
        expire: {pushed_before: 10d}
"""
PER_IMAGE = {"image_deleted", "tags_removed", "image_planned", "action_skipped"}


@pytest.fixture
def policy(tmp_path: Path, seeder: Seeder) -> Path:
    for name in ("app", "web"):
        repo = seeder.repository(name)
        for n in range(5):
            repo.image([f"build-{n}"], pushed_at=NOW - (50 - n) * DAY)
        repo.image(["latest", "build-old"], pushed_at=NOW - 90 * DAY)
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return path


def events(err: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    """The command's log events; what it printed stays in PRINTED[-1]."""
    capsys.readouterr()
    main([*args, "--now", NOW.isoformat(), "--log-format", "json"])
    captured = capsys.readouterr()
    PRINTED.append(captured.out)
    return events(captured.err)


PRINTED: list[str] = []


@pytest.mark.parametrize("command", [["plan"], ["run", "--dry-run"]])
def test_a_dry_run_logs_no_info_level_event_per_image(
    sb: Sandbox, policy: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    logged = run_cli(capsys, *command, "--config", str(policy))
    assert not [e for e in logged if e["event"] in PER_IMAGE]
    names = [e["event"] for e in logged]
    assert names.count("run_started") == 1 and names.count("run_finished") == 1
    done = [e for e in logged if e["event"] == "repository_done"]
    assert sorted(e["repository"] for e in done) == ["app", "web"]
    assert all(e["level"] == "info" and e["dry_run"] for e in done)
    assert {(e["images_scanned"], e["images_deleted"], e["tags_removed"]) for e in done} == {
        (6, 3, 1)
    }
    assert all(e["seconds"] >= 0 and e["bytes_reclaimed"] > 0 for e in done)


def test_at_debug_level_a_plan_logs_what_it_would_do_as_image_planned(
    sb: Sandbox, policy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logged = run_cli(capsys, "plan", "--config", str(policy), "--log-level", "debug")
    planned = [e for e in logged if e["event"] == "image_planned"]
    assert len(planned) == 8  # 3 images and 1 tag removal in each of 2 repositories
    assert {e["level"] for e in planned} == {"debug"}
    assert {e["kind"] for e in planned} == {"delete_image", "remove_tag"}
    assert not [e for e in logged if e["event"] in {"image_deleted", "tags_removed"}]


def test_a_run_logs_every_deletion_at_info_level(
    sb: Sandbox, policy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logged = run_cli(capsys, "run", "--config", str(policy))
    deleted = [e for e in logged if e["event"] == "image_deleted"]
    untagged = [e for e in logged if e["event"] == "tags_removed"]
    assert (len(deleted), len(untagged)) == (6, 2)
    assert {e["level"] for e in deleted + untagged} == {"info"}
    assert not [e for e in logged if e["event"] == "image_planned"]
    done = [e for e in logged if e["event"] == "repository_done"]
    assert [e["dry_run"] for e in done] == [False, False]


def test_serve_logs_one_run_started_per_run(
    sb: Sandbox, policy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    main(["serve", "--once", "--dry-run", "--config", str(policy), "--log-format", "json"])
    logged = events(capsys.readouterr().err)
    assert [e["event"] for e in logged].count("run_started") == 1
    (started,) = [e for e in logged if e["event"] == "run_started"]
    assert started["run_id"]  # serve's context reaches the pipeline's event


class Recorder:
    def __init__(self) -> None:
        self.last: Snapshot | None = None
        self.closed = False

    def update(self, snapshot: Snapshot) -> None:
        self.last = snapshot

    def close(self, snapshot: Snapshot) -> None:
        self.closed = True


@pytest.mark.parametrize("dry_run", [True, False])
def test_progress_counts_a_whole_run(sb: Sandbox, policy: Path, dry_run: bool) -> None:
    sink = Recorder()
    result = run_once(
        load_config(policy), Clients(), NOW, RunOptions(dry_run=dry_run, progress=Progress([sink]))
    )
    summary = result.report.summary()
    last = sink.last
    assert last is not None and sink.closed
    assert (last.targets, last.targets_listed) == (1, 1)
    assert (last.repositories, last.planned, last.done) == (2, 2, 2)
    assert last.images_scanned == summary["images_scanned"] == 12
    assert last.deletions == summary["images_deleted"] + summary["tags_removed"] == 8
    assert last.dry_run is dry_run


@pytest.mark.parametrize(
    ("args", "tty", "starts"),
    [
        ([], False, "ecr-cleaner run at"),  # the table
        ([], True, "ecr-cleaner run at"),  # the summary
        (["--format", "json"], True, "{"),
        (["--dry-run"], True, "{"),  # run --dry-run is plan --format json
    ],
)
def test_what_run_prints_by_default(
    sb: Sandbox,
    policy: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    tty: bool,
    starts: str,
) -> None:
    monkeypatch.setattr("sys.stdout.isatty", lambda: tty)
    run_cli(capsys, "run", "--config", str(policy), "--log-level", "warning", *args)
    out = PRINTED.pop()
    assert out.startswith(starts)
    if starts != "{":
        is_summary = "repository  images" in out
        assert is_summary is tty
        assert ("action  digest" in out) is not tty
