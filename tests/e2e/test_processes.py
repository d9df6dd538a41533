"""limits.processes over the sandbox: a run split over processes gives the report and
the registry that one process gives, in every kind of run; max_deletions is checked
over the whole plan before anything is deleted; a worker that dies fails only its
repositories, honestly."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from processes_support import TakingPart, registry_state, report_json, taking_part, worker_pids

from cleaner.aws.clients import Clients
from cleaner.config.load import load_config_text
from cleaner.core.model import Status
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import run_once
from cleaner.sandbox import Sandbox, Seeder

__all__ = ["taking_part"]  # a fixture

NOW = datetime(2026, 6, 1, tzinfo=UTC)
NAMES = [f"svc-{n}" for n in range(4)]

POLICY = """
version: 1
targets: TARGETS
policies:
  - name: services
    repositories: ["svc-*"]
    protect: PROTECT
    rules:
      - name: features
        select: {tag_status: tagged, tags: ["feature-*"]}
        keep: {most_recent: 2}
        expire: {pushed_before: 30d}
        ACTION
      - name: untagged
        select: {tag_status: untagged}
        expire: {pushed_before: 1d}
limits: {max_deletions: MAX, processes: PROCESSES, concurrency: 2}
"""


def seed(sb: Sandbox, names: list[str] = NAMES, builds: int = 20) -> dict[str, list[str]]:
    """Plain images, multi-arch indexes with attestations, cosign signatures, untagged
    leftovers; returns each repository's digests in push order."""
    seeder = Seeder(sb.store)
    pushed: dict[str, list[str]] = {}
    for name in names:
        repo = seeder.repository(name)
        digests = pushed[name] = []
        for k in range(builds):
            at = NOW - timedelta(days=(k * 7) % 90, hours=k)
            if k % 5 == 0:
                index = repo.index([f"feature-x-{k}"], attestations=True, pushed_at=at)
                digests.append(index.digest)
            elif k % 5 == 1:
                image = repo.image([f"feature-y-{k}"], pushed_at=at)
                repo.cosign(image, pushed_at=at)
                digests.append(image)
            elif k % 5 == 2:
                digests.append(repo.image([], pushed_at=at))
            else:
                tags = [f"feature-z-{k}", *(["latest"] if k == 3 else [])]
                digests.append(repo.image(tags, pushed_at=at))
    return pushed


@dataclass(frozen=True)
class Scenario:
    """A policy's parts, and what to set up in the sandbox (and the policy) first."""

    targets: str = "[{region: us-east-1}]"
    protect: str = "{tags: [latest], keep_at_least: 2}"
    action: str = ""
    max_deletions: int = 100_000
    dry_run: bool = False
    # Seeds the registry (after the plain seed) and may add to the policy's parts.
    setup: Callable[[Sandbox, dict[str, list[str]], Path], dict[str, str]] | None = None

    def policy(self, processes: int, sb: Sandbox, tmp_path: Path) -> str:
        pushed = seed(sb)
        parts = {
            "TARGETS": self.targets,
            "PROTECT": self.protect,
            "ACTION": self.action,
            "MAX": str(self.max_deletions),
        }
        if self.setup is not None:
            parts.update(self.setup(sb, pushed, tmp_path))
        text = POLICY.replace("PROCESSES", str(processes))
        for key, value in parts.items():
            text = text.replace(key, value)
        return text


def pinned_in_a_file(sb: Sandbox, pushed: dict[str, list[str]], tmp_path: Path) -> dict[str, str]:
    """An in-use file naming one expiring image of every repository, by digest."""
    listing = tmp_path / "pinned.txt"
    host = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    listing.write_text("".join(f"{host}/{name}@{d[12]}\n" for name, d in pushed.items()))
    protect = "{tags: [latest], keep_at_least: 2, in_use: {sources: [{file: {path: FILE}}]}}"
    return {"PROTECT": protect.replace("FILE", str(listing))}


def a_target_that_fails(sb: Sandbox, _: dict[str, list[str]], __: Path) -> dict[str, str]:
    """A second target acting as a role that STS refuses: its repositories cannot be listed."""
    sb.reject("sts", "")  # STS speaks the query protocol: no operation in the target header
    role = "arn:aws:iam::210987654321:role/cleaner"
    return {"TARGETS": f"[{{region: us-east-1}}, {{region: us-west-2, role_arn: '{role}'}}]"}


def one_not_found(sb: Sandbox, _: dict[str, list[str]], __: Path) -> dict[str, str]:
    names = ", ".join([*NAMES, "svc-gone"])
    return {"TARGETS": f"[{{region: us-east-1, repositories: [{names}]}}]"}


# The plan of a run with these seeds: 4 repositories of about 17 deletions each. Each
# case starts a worker process (about a second): the fast suite keeps three.
SLOW = pytest.mark.slow
SCENARIOS = [
    pytest.param(Scenario(), id="delete"),
    pytest.param(Scenario(dry_run=True), id="dry-run", marks=SLOW),
    pytest.param(Scenario(action="action: archive"), id="archive"),
    pytest.param(
        Scenario(action="action: archive", dry_run=True), id="archive-dry-run", marks=SLOW
    ),
    # Over the whole plan, under any one process's part of it: nothing is deleted.
    pytest.param(Scenario(max_deletions=50), id="max-deletions-over-the-whole-plan", marks=SLOW),
    pytest.param(Scenario(setup=pinned_in_a_file), id="protected-in-use"),
    pytest.param(Scenario(setup=one_not_found), id="repository-not-found", marks=SLOW),
    pytest.param(Scenario(setup=a_target_that_fails), id="a-target-that-fails", marks=SLOW),
]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_two_processes_give_what_one_process_gives(
    sb: Sandbox, tmp_path: Path, taking_part: TakingPart, scenario: Scenario
) -> None:
    outcomes = []
    for processes in (1, 2):
        sb.reset()
        config = load_config_text(scenario.policy(processes, sb, tmp_path))
        sb.faults.add_latency("DescribeImages", 0.02)  # the worker starts while this waits
        result = run_once(config, Clients(), NOW, RunOptions(dry_run=scenario.dry_run))
        outcomes.append((result, report_json(result), registry_state(sb)))
    (one, one_json, one_left), (two, two_json, two_left) = outcomes

    assert taking_part.shares[-1][0] >= 1  # the worker planned some
    assert one_json["summary"]["images_scanned"] > 0
    assert two_json == one_json
    assert two.report.repositories == one.report.repositories
    assert two.report.warnings == one.report.warnings
    assert two.exit_code == one.exit_code
    assert two_left == one_left


def test_max_deletions_counts_every_process_before_any_deletes(
    sb: Sandbox, tmp_path: Path, taking_part: TakingPart
) -> None:
    text = Scenario(max_deletions=50).policy(2, sb, tmp_path)
    before = registry_state(sb)
    planned = run_once(load_config_text(text), Clients(), NOW, RunOptions(dry_run=True))
    per_repository = [len(p.actions) for p in planned.report.repositories]
    assert sum(per_repository) > 50 >= 2 * max(per_repository)  # no process's part exceeds it

    sb.faults.calls.clear()
    result = run_once(load_config_text(text), Clients(), NOW, RunOptions(dry_run=False))

    assert taking_part.shares[-1][0] >= 1
    assert result.exit_code == 3
    assert sb.faults.calls["BatchDeleteImage"] == 0 and registry_state(sb) == before
    actions = [a for p in result.report.repositories for a in p.actions]
    assert actions and {a.status for a in actions} == {Status.SKIPPED}
    assert all(a.reason.endswith("stopped by limits.max_deletions") for a in actions)


def kill_the_workers(killed: list[int]) -> None:
    for pid in worker_pids(os.getpid()):
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)


@pytest.mark.slow
def test_a_worker_that_dies_planning_touched_nothing(
    sb: Sandbox, tmp_path: Path, taking_part: TakingPart
) -> None:
    text = Scenario().policy(2, sb, tmp_path)
    before = registry_state(sb)
    killed: list[int] = []
    # The run's first inventory: the worker has been handed a repository by then (this
    # process's threads wait for it), and has planned none.
    sb.faults.after_call("DescribeImages", 1, lambda _: kill_the_workers(killed))

    result = run_once(load_config_text(text), Clients(), NOW, RunOptions(dry_run=False))

    assert killed and result.exit_code == 1
    left = registry_state(sb)
    failed = {p.repository.name: p.error for p in result.report.repositories if p.failed}
    assert failed and set(failed) == taking_part.last_worker_repositories
    for name, error in failed.items():
        assert error == "not touched: its worker process ended unexpectedly (killed by SIGKILL)"
        assert left[f"us-east-1/{name}"] == before[f"us-east-1/{name}"]
    assert all(p.actions for p in result.report.repositories if not p.failed)


@pytest.mark.slow
def test_a_worker_that_dies_deleting_fails_its_repositories_and_nothing_more(
    sb: Sandbox, tmp_path: Path, taking_part: TakingPart
) -> None:
    text = Scenario().policy(1, sb, tmp_path)
    reference = run_once(load_config_text(text), Clients(), NOW, RunOptions(dry_run=False))
    expected_left = registry_state(sb)
    sb.reset()
    text = Scenario().policy(2, sb, tmp_path)
    before = registry_state(sb)
    killed: list[int] = []

    def kill_once_it_has_deleted(_: object) -> None:
        state = registry_state(sb)  # the store's lock is held: the call is not answered yet
        theirs = taking_part.worker_repositories()
        if not killed and any(state[f"us-east-1/{n}"] != before[f"us-east-1/{n}"] for n in theirs):
            kill_the_workers(killed)

    for number in range(1, 40):
        sb.faults.after_call("BatchDeleteImage", number, kill_once_it_has_deleted)

    result = run_once(load_config_text(text), Clients(), NOW, RunOptions(dry_run=False))

    assert killed and result.exit_code == 1
    left = registry_state(sb)
    expected = {p.repository.name: p for p in reference.report.repositories}
    unknown = []  # repositories it had been told to execute
    for plan in result.report.repositories:
        key = f"us-east-1/{plan.repository.name}"
        assert set(expected_left[key]) <= set(left[key])  # never more than one process
        if not plan.failed:
            assert plan == expected[plan.repository.name] and left[key] == expected_left[key]
        elif plan.error == (
            "failed: its worker process ended unexpectedly (killed by SIGKILL) while executing "
            "it; what it deleted or archived in this repository before is not known"
        ):
            unknown.append(key)
        else:
            assert plan.error == (
                "not touched: its worker process ended unexpectedly (killed by SIGKILL) "
                "after planning it"
            )
            assert left[key] == before[key]
    assert any(left[key] != before[key] for key in unknown)  # where it was deleting


@pytest.mark.slow
@pytest.mark.parametrize("executable", ["/nonexistent/python", "/bin/false"])
def test_a_worker_that_cannot_start_leaves_the_run_to_the_others(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, executable: str
) -> None:
    """No interpreter to start (an embedded Python), or one that fails at once."""
    text = Scenario().policy(1, sb, tmp_path)
    reference = report_json(
        run_once(load_config_text(text), Clients(), NOW, RunOptions(dry_run=True))
    )
    monkeypatch.setattr(sys, "executable", executable)
    sb.reset()
    text = Scenario().policy(2, sb, tmp_path)
    result = run_once(load_config_text(text), Clients(), NOW, RunOptions(dry_run=True))
    assert result.exit_code == 0
    assert report_json(result) == reference
