"""SIGINT and SIGTERM during `run` and `plan`: stop before the next batch, write the
report, exit 130 / 143; a second signal exits at once.

The cleaner runs as a real process and the sandbox in this one: a sandbox hook sends
the signal while a call is being answered, so the signal lands at an exact point, and
the sandbox's added latency gives the cleaner's main thread time to handle it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cleaner.sandbox import RepoSeeder, Sandbox

pytestmark = pytest.mark.slow  # real signals to real subprocesses

POLICY = """
version: 1
targets: [{region: us-east-1}]
policies:
  - name: leftovers
    protect: {keep_at_least: 0}
    rules: [{name: untagged, select: {tag_status: untagged}, expire: {pushed_before: 1d}}]
limits: {max_deletions: 1000}
"""
OLD = datetime.now(UTC) - timedelta(days=30)  # seeding only; no assertion reads the clock


def start(
    command: list[str], tmp_path: Path, process: dict[str, subprocess.Popen[str]]
) -> tuple[int, str]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    argv = [sys.executable, "-m", "cleaner", *command, "--config", str(policy)]
    argv += ["--log-format", "json"]
    process["cleaner"] = proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


def send(process: dict[str, subprocess.Popen[str]], sig: int) -> Callable[[Any], None]:
    return lambda _store: process["cleaner"].send_signal(sig)


def by_status(report: dict[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for action in report["repositories"][0]["actions"]:
        found.setdefault(action["status"], set()).add(action["digest"])
    return found


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_during_run_stops_before_the_next_batch_and_writes_a_true_report(
    sb: Sandbox, repo: RepoSeeder, tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    digests = {repo.image(pushed_at=OLD - timedelta(minutes=n)) for n in range(250)}
    process: dict[str, subprocess.Popen[str]] = {}
    # DescribeImages call 2 is the first batch's re-describe (call 1: the inventory).
    sb.faults.after_call("DescribeImages", 2, send(process, sig))
    sb.faults.add_latency("BatchDeleteImage", 0.2)
    report_path = tmp_path / "report.json"
    returncode, err = start(["run", "--report", str(report_path)], tmp_path, process)

    assert returncode == code, err
    assert sb.faults.calls["BatchDeleteImage"] == 1  # the re-described batch, and no other
    report = json.loads(report_path.read_text())
    status = by_status(report)
    assert set(status) == {"deleted", "skipped"}
    assert len(status["deleted"]) == 100 and status["deleted"] | status["skipped"] == digests
    reason = f"not attempted: stopped by {sig.name}"
    actions = report["repositories"][0]["actions"]
    assert all(a["reason"].endswith(reason) for a in actions if a["status"] == "skipped")
    assert any(w.startswith(f"stopped by {sig.name}") for w in report["warnings"])
    assert set(repo.snapshot()) == status["skipped"]  # the report is true to the registry
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    finished = [e for e in events if e["event"] == "run_finished"]
    assert len(finished) == 1 and finished[0]["exit_code"] == code
    assert "Traceback" not in err


def test_a_signal_during_plan_stops_it_and_writes_what_was_planned(
    sb: Sandbox, repo: RepoSeeder, tmp_path: Path
) -> None:
    digests = {repo.image(pushed_at=OLD - timedelta(minutes=n)) for n in range(250)}
    process: dict[str, subprocess.Popen[str]] = {}
    sb.faults.after_call("DescribeImages", 2, send(process, signal.SIGTERM))
    sb.faults.add_latency("DescribeImages", 0.2)
    output = tmp_path / "plan.json"
    command = ["plan", "--format", "json", "--output", str(output)]
    returncode, err = start(command, tmp_path, process)

    assert returncode == 143, err
    report = json.loads(output.read_text())
    status = by_status(report)
    assert len(status["planned"]) == 100 and status["planned"] | status["skipped"] == digests
    assert report["summary"]["images_deleted"] == 100  # what the plan got to
    assert sb.faults.calls["BatchDeleteImage"] == 0
    assert set(repo.snapshot()) == digests


def test_a_second_signal_exits_at_once(sb: Sandbox, repo: RepoSeeder, tmp_path: Path) -> None:
    for n in range(250):
        repo.image(pushed_at=OLD - timedelta(minutes=n))
    process: dict[str, subprocess.Popen[str]] = {}
    sb.faults.after_call("DescribeImages", 2, send(process, signal.SIGTERM))
    # The second arrives as the first delete is answered, 300 ms after the first.
    sb.faults.add_latency("BatchDeleteImage", 0.3)
    sb.faults.after_call("BatchDeleteImage", 1, send(process, signal.SIGTERM))
    report_path = tmp_path / "report.json"
    returncode, err = start(["run", "--report", str(report_path)], tmp_path, process)

    assert returncode == 143, err
    assert "second SIGTERM: exiting at once" in err
    assert not report_path.exists()
    assert '"run_finished"' not in err
