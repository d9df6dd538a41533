"""protect.in_use end to end: ECS and Lambda (moto, through the sandbox's endpoint), a
command and a file; every kind of reference; and failing sources that stop a target."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from workloads import Workloads, reset_moto

from cleaner.aws.clients import Clients
from cleaner.cli import main
from cleaner.config.load import parse_config
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import run_once
from cleaner.sandbox import Sandbox, Seeder

NOW = datetime(2027, 1, 1, tzinfo=UTC)
OLD = NOW - timedelta(days=30)


@pytest.fixture
def aws(sb: Sandbox) -> Iterator[Workloads]:
    reset_moto(sb)
    yield Workloads(sb)
    reset_moto(sb)


def policy(*sources: Any, repositories: list[str] | None = None) -> dict[str, Any]:
    """Everything older than a day goes, unless a source says it is in use."""
    guarded: dict[str, Any] = {
        "name": "guarded",
        "protect": {"in_use": {"sources": list(sources)}},
        "rules": [{"name": "old", "expire": {"pushed_before": "1d"}}],
    }
    if repositories is not None:
        guarded["repositories"] = repositories
    return guarded


def config(*policies: dict[str, Any], regions: tuple[str, ...] = ("us-east-1",)) -> Any:
    return parse_config(
        {
            "version": 1,
            "targets": [{"regions": list(regions)}],
            "policies": list(policies),
        }
    )


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_every_source_protects_what_its_workloads_use(
    sb: Sandbox, aws: Workloads, tmp_path: Path
) -> None:
    repo = Seeder(sb.store).repository("app")
    img = {name: repo.image([name], pushed_at=OLD) for name in ("task", "svc", "fn", "file")}
    img["stale"] = repo.image(["stale"], pushed_at=OLD)
    img["stopped"] = repo.image(["stopped"], pushed_at=OLD)
    img["untagged"] = repo.image(pushed_at=OLD)
    multi = repo.index(["multi"], pushed_at=OLD, attestations=True)
    img["multi"] = multi.digest

    # ECS: the task was started from tag "task", which has since moved on: only the
    # digest ECS reports (containers[].imageDigest) still names what it runs.
    task = aws.task("prod", aws.image("app", "task"), pulled=img["task"])
    repo.tag("task", img["stale"])
    gone = aws.task("batch", aws.image("app", "stopped"), pulled=img["stopped"])
    aws.stop("batch", gone)
    aws.service("prod", "web", aws.image("app", "svc"))
    # Lambda: version 1 runs "fn"; $LATEST and version 2 moved to another image since.
    aws.function("worker", aws.image("app", "fn"))
    aws.update_function("worker", aws.image("app", digest=img["file"]))
    aws.lam.create_alias(FunctionName="worker", Name="live", FunctionVersion="1")
    aws.zip_function("plain-zip")
    listing = tmp_path / "in-use.txt"
    listing.write_text(
        f"# on-prem\n{aws.image('app', 'file')}\n{aws.image('app', digest=img['untagged'])}\n"
    )
    command = python(f"print('app@{img['multi']}')")  # no registry: any registry's "app"

    sources = ["ecs", "lambda", {"file": {"path": str(listing)}}, {"command": {"argv": command}}]
    result = run_once(config(policy(*sources)), Clients(), NOW, RunOptions(dry_run=False))

    assert result.exit_code == 0
    (report,) = result.report.repositories
    deleted = {a.digest for a in report.actions if a.status.value == "deleted"}
    assert deleted == {img["stale"], img["stopped"]}
    why = {k.digest: k.reason for k in report.kept}
    assert why[img["task"]] == f"in use by ecs task {task} (cluster prod)"
    assert why[img["svc"]] == "in use by ecs service web (cluster prod, task definition web:1)"
    assert why[img["fn"]] == "in use by lambda worker:1 (alias live)"
    # (moto also lists it under version 1: its versions share the code's ImageUri)
    assert why[img["file"]].startswith("in use by file")
    assert "; lambda worker:$LATEST;" in why[img["file"]]
    assert why[img["untagged"]] == f"in use by file {listing} (line 3)"
    assert why[img["multi"]] == f"in use by command {sys.executable} (line 1)"
    left = repo.snapshot()
    assert set(multi.children) | set(multi.attestations) <= set(left)  # the index's children
    assert not deleted & set(left)


def test_ecs_task_definition_revisions_protect_the_latest_n_of_each_family(
    sb: Sandbox, aws: Workloads
) -> None:
    repo = Seeder(sb.store).repository("app")
    builds = [repo.image([f"b{n}"], pushed_at=OLD) for n in range(4)]
    for n in range(4):  # api:1..4 run b0..b3; "api-worker" shares the prefix, not the family
        aws.task_definition("api", aws.image("app", f"b{n}"))
    aws.task_definition("api-worker", aws.image("app", "b0"))
    source = {"ecs": {"task_definition_revisions": 2}}
    result = run_once(config(policy(source)), Clients(), NOW, RunOptions(dry_run=True))
    why = {k.digest: k.reason for k in result.report.repositories[0].kept}
    planned = {a.digest for a in result.report.repositories[0].actions}
    assert planned == {builds[1]}
    assert why[builds[3]].startswith("in use by ecs task definition api:4 (latest 2 revisions")
    assert why[builds[0]].startswith("in use by ecs task definition api-worker:1")


def test_each_source_is_read_once_per_target(sb: Sandbox, tmp_path: Path) -> None:
    seeder = Seeder(sb.store)
    for name in ("a", "b", "c"):
        seeder.repository(name).image(["x"], pushed_at=OLD)
    seeder.repository("a", region="eu-west-1").image(["x"], pushed_at=OLD)
    runs = tmp_path / "runs"
    count = python(f"open({str(runs)!r}, 'a').write('run\\n')")
    cfg = config(policy({"command": {"argv": count}}), regions=("us-east-1", "eu-west-1"))
    result = run_once(cfg, Clients(), NOW, RunOptions(dry_run=True))
    assert len(result.report.repositories) == 4
    assert runs.read_text().count("run") == 2  # one per target (region), not per repository


FAILING = [
    pytest.param(
        {"command": {"argv": python("raise SystemExit(1)")}},
        None,
        "in-use source command",
        "exited with status 1",
        id="command-exit-1",
    ),
    pytest.param(
        {"file": {"path": "/nonexistent/in-use.txt"}},
        None,
        "in-use source file /nonexistent/in-use.txt",
        "No such file",
        id="missing-file",
    ),
    pytest.param(
        "ecs",
        ("ecs", "ListClusters"),
        "in-use source ecs",
        "AccessDeniedException: injected by the sandbox",
        id="ecs-access-denied",
    ),
    pytest.param(
        "ecs",
        ("ecs", "DescribeTaskDefinition"),
        "in-use source ecs",
        "AccessDeniedException",
        id="ecs-denied-midway",
    ),
]


@pytest.mark.parametrize(("source", "reject", "names", "says"), FAILING)
def test_a_source_that_cannot_be_read_stops_its_whole_target(
    sb: Sandbox, aws: Workloads, source: Any, reject: tuple[str, str] | None, names: str, says: str
) -> None:
    seeder = Seeder(sb.store)
    east_guarded = seeder.repository("guarded/app").image(["old"], pushed_at=OLD)
    east_plain = seeder.repository("plain").image(["old"], pushed_at=OLD)
    west_plain = seeder.repository("plain", region="eu-west-1").image(["old"], pushed_at=OLD)
    aws.service("prod", "web", aws.image("plain", "other"))  # DescribeTaskDefinition is called
    if reject is not None:
        sb.reject(*reject)
    # Only us-east-1 has a repository whose policy names the source; eu-west-1 does not.
    plain = {
        "name": "plain",
        "protect": {"keep_at_least": 0},
        "rules": [{"name": "old", "expire": {"pushed_before": "1d"}}],
    }
    cfg = parse_config(
        {
            "version": 1,
            "targets": [
                {"region": "us-east-1"},
                {"region": "eu-west-1", "repositories": ["plain"]},
            ],
            "policies": [policy(source, repositories=["guarded/*"]), plain],
        }
    )
    result = run_once(cfg, Clients(), NOW, RunOptions(dry_run=False))

    assert result.exit_code == 1
    by_place = {(r.repository.region, r.repository.name): r for r in result.report.repositories}
    for place in [("us-east-1", "guarded/app"), ("us-east-1", "plain")]:
        entry = by_place[place]
        assert entry.failed and entry.actions == ()
        assert entry.error is not None and entry.error.startswith(f"not touched: {names}")
        assert says in entry.error
    assert sb.store.repository("123456789012", "us-east-1", "guarded/app").images.keys() == {
        east_guarded
    }
    assert sb.store.repository("123456789012", "us-east-1", "plain").images.keys() == {east_plain}
    # Another target is not held back by this one's source.
    assert west_plain not in sb.store.repository("123456789012", "eu-west-1", "plain").images
    assert not by_place[("eu-west-1", "plain")].failed


def test_the_cli_exits_1_and_reports_the_unreadable_source(
    sb: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Seeder(sb.store).repository("app").image(["old"], pushed_at=OLD)
    path = tmp_path / "policy.yaml"
    missing = tmp_path / "gone.txt"
    cfg = {
        "version": 1,
        "targets": [{"region": "us-east-1"}],
        "policies": [policy({"file": {"path": str(missing)}})],
    }
    path.write_text(yaml.safe_dump(cfg))
    code = main(["run", "--config", str(path), "--now", NOW.isoformat(), "--log-format", "json"])
    assert code == 1
    out = capsys.readouterr()
    assert f"not touched: in-use source file {missing} could not be read" in out.out
    assert '"event": "in_use_source_failed"' in out.err
