"""Concurrency, the request-rate cap and sharding, end to end against the sandbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from cleaner.aws.clients import Clients
from cleaner.aws.pacing import Pacing
from cleaner.cli import main
from cleaner.config.load import parse_config
from cleaner.config.model import Config
from cleaner.core.model import Shard
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import run_once
from cleaner.sandbox import Sandbox, Seeder

NOW = datetime(2027, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
NAMES = [f"team-{t}/svc-{n}" for t in "abc" for n in range(4)]


def settings(**limits: Any) -> dict[str, Any]:
    return {
        "version": 1,
        "targets": [{"region": "us-east-1"}],
        "policies": [
            {
                "name": "builds",
                "protect": {"tags": ["latest"]},
                "rules": [
                    {
                        "name": "builds",
                        "select": {"tag_status": "tagged", "tags": ["build-*"]},
                        "keep": {"most_recent": 2},
                    },
                    {
                        "name": "untagged",
                        "select": {"tag_status": "untagged"},
                        "expire": {"pushed_before": "1d"},
                    },
                ],
            }
        ],
        "limits": limits,
    }


def config(**limits: Any) -> Config:
    return parse_config(settings(**limits))


def seed(sb: Sandbox, names: list[str] = NAMES) -> None:
    """The same registry every time: seeded digests depend only on what is seeded."""
    seeder = Seeder(sb.store)
    for i, name in enumerate(names):
        repo = seeder.repository(name)
        for n in range(5 + i % 3):
            repo.image([f"build-{n}"], pushed_at=NOW - (40 - n) * DAY)
        repo.index(["latest", "build-old"], pushed_at=NOW - 90 * DAY, attestations=True)
        repo.image(pushed_at=NOW - 10 * DAY)


def comparable(result: Any) -> dict[str, Any]:
    report: dict[str, Any] = result.report.to_dict()
    del report["started_at"], report["finished_at"]
    return report


@pytest.mark.parametrize("dry_run", [True, False])
def test_the_report_is_the_same_whatever_the_concurrency(sb: Sandbox, dry_run: bool) -> None:
    reports = []
    for concurrency in (1, 8):
        sb.reset()
        seed(sb)
        result = run_once(
            config(concurrency=concurrency), Clients(), NOW, RunOptions(dry_run=dry_run)
        )
        assert result.exit_code == 0
        reports.append(comparable(result))
    assert reports[0] == reports[1]
    names = [r["repository"] for r in reports[0]["repositories"]]
    assert names == sorted(NAMES)
    assert reports[0]["summary"]["images_deleted"] > len(NAMES)


def test_log_events_keep_their_repository_when_threads_interleave(
    sb: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(sb)
    owner = {
        d: name
        for name in NAMES
        for d in sb.store.repository("123456789012", "us-east-1", name).images
    }
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(settings(concurrency=8)))
    assert (
        main(["run", "--config", str(path), "--now", NOW.isoformat(), "--log-format", "json"]) == 0
    )
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    deletions = [e for e in events if e["event"] == "image_deleted"]
    assert len(deletions) > len(NAMES)
    for event in deletions:
        assert owner[event["digest"]] == event["repository"]


class FrozenClock:
    """Time stands still, so every call's wait is exactly its slot in the line."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return 0.0

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)  # list.append is atomic: threads may share it


@pytest.mark.parametrize("concurrency", [1, 8])
def test_the_rate_cap_spaces_every_ecr_call_of_a_registry(sb: Sandbox, concurrency: int) -> None:
    seed(sb, NAMES[:5])
    time = FrozenClock()
    cfg = config(concurrency=concurrency, requests_per_second=4)
    result = run_once(
        cfg, Clients(), NOW, RunOptions(dry_run=False, pacing=Pacing(time.clock, time.sleep))
    )
    assert result.exit_code == 0
    calls = sum(sb.faults.calls.values())
    assert calls > 20
    # N calls of one registry at 4 a second: the k-th waits k/4 s, none goes early.
    assert sorted(time.sleeps) == pytest.approx([k / 4 for k in range(1, calls)])


def test_without_a_cap_nothing_waits(sb: Sandbox) -> None:
    seed(sb, NAMES[:2])
    time = FrozenClock()
    run_once(
        config(), Clients(), NOW, RunOptions(dry_run=True, pacing=Pacing(time.clock, time.sleep))
    )
    assert time.sleeps == []


def test_shards_cover_every_repository_exactly_once(sb: Sandbox) -> None:
    seed(sb)
    seen: list[str] = []
    for k in range(3):
        result = run_once(config(), Clients(), NOW, RunOptions(dry_run=True, shard=Shard(k, 3)))
        assert result.report.to_dict()["shard"] == {"index": k, "count": 3}
        seen.extend(r.repository.name for r in result.report.repositories)
    assert sorted(seen) == sorted(NAMES)


def plan_json(
    sb: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, Any]:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(settings()))
    code = main(
        ["plan", "--config", str(path), "--now", NOW.isoformat(), "--format", "json", *args]
    )
    out = capsys.readouterr().out
    return code, json.loads(out) if code == 0 else out


@pytest.mark.parametrize(
    ("args", "environment", "shard"),
    [
        (["--shard", "1/3"], {}, {"index": 1, "count": 3}),
        ([], {"ECR_CLEANER_SHARD": "2/3"}, {"index": 2, "count": 3}),
        (["--shard-count", "3"], {"JOB_COMPLETION_INDEX": "0"}, {"index": 0, "count": 3}),
        (
            [],
            {"ECR_CLEANER_SHARD_COUNT": "3", "JOB_COMPLETION_INDEX": "1"},
            {"index": 1, "count": 3},
        ),
        ([], {}, None),
    ],
)
def test_the_cli_runs_the_shard_it_is_given_and_says_so(
    sb: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    environment: dict[str, str],
    shard: dict[str, int] | None,
) -> None:
    seed(sb)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    code, report = plan_json(sb, tmp_path, capsys, *args)
    assert code == 0
    assert report["shard"] == shard
    names = {r["repository"] for r in report["repositories"]}
    if shard is None:
        assert names == set(NAMES)
    else:
        expected = Shard(shard["index"], shard["count"])
        assert names == {n for n in NAMES if expected.owns(_ref(n))}


def _ref(name: str) -> Any:
    from cleaner.core.model import RepositoryRef

    return RepositoryRef("us-east-1", "123456789012", name)


@pytest.mark.parametrize(
    ("args", "environment", "message"),
    [
        (["--shard", "3/3"], {}, "--shard '3/3': K must be from 0 to 2"),
        (["--shard", "x"], {}, "--shard 'x': give K/N"),
        (["--shard-count", "3"], {}, "needs $JOB_COMPLETION_INDEX"),
        (
            [],
            {"ECR_CLEANER_SHARD": "1/0"},
            "$ECR_CLEANER_SHARD '1/0': the shard count N must be at least 1",
        ),
    ],
)
def test_an_invalid_shard_is_a_usage_error_before_any_aws_call(
    sb: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    environment: dict[str, str],
    message: str,
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(settings()))
    assert main(["run", "--config", str(path), *args]) == 2
    assert message in capsys.readouterr().err
    assert sum(sb.faults.calls.values()) == 0


def test_serve_runs_its_shard_too(sb: Sandbox, tmp_path: Path) -> None:
    seed(sb)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(settings()))
    reports = tmp_path / "reports"
    args = ["serve", "--config", str(path), "--once", "--dry-run", "--report-dir", str(reports)]
    assert main([*args, "--shard", "5/3"]) == 2
    assert main([*args, "--shard", "2/3"]) == 0
    (written,) = reports.glob("*.json")
    report = json.loads(written.read_text())
    assert report["shard"] == {"index": 2, "count": 3}
    expected = {n for n in NAMES if Shard(2, 3).owns(_ref(n))}
    assert {r["repository"] for r in report["repositories"]} == expected
