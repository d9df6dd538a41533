"""limits.processes and signals: the first SIGTERM stops every process before its next
batch and the report is written (exit 143); a second one ends every process at once.
The cleaner runs as a real process (the CLI), the sandbox in this one."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pytest
from processes_support import registry_state, worker_pids

from cleaner.sandbox import Sandbox, Seeder

pytestmark = pytest.mark.slow  # real signals to real processes

OLD = datetime.now(UTC) - timedelta(days=30)  # seeding only; no assertion reads the clock
NAMES = [f"svc-{n:02d}" for n in range(12)]
POLICY = """
version: 1
targets: [{region: us-east-1}]
policies:
  - name: leftovers
    protect: {keep_at_least: 0}
    rules: [{name: untagged, select: {tag_status: untagged}, expire: {pushed_before: 1d}}]
limits: {max_deletions: 10000, processes: 2, concurrency: 2}
"""


def seed(sb: Sandbox) -> None:
    seeder = Seeder(sb.store)
    for name in NAMES:
        repo = seeder.repository(name)
        for n in range(150):
            repo.image(pushed_at=OLD - timedelta(minutes=n))
    # Planning every repository takes this process's two threads two seconds or more:
    # the worker has started long before and plans some of them.
    sb.faults.add_latency("DescribeImages", 0.3)


def run_cli(
    tmp_path: Path, process: dict[str, Any], on_line: Callable[[str], None] = lambda _: None
) -> tuple[int, str, Path]:
    """The CLI's `run` in a process of its own; `on_line` sees each stderr line as it comes."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    report = tmp_path / "report.json"
    argv = [sys.executable, "-m", "cleaner", "run", "--config", str(policy)]
    argv += ["--report", str(report), "--log-format", "json"]
    process["cleaner"] = proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    assert proc.stderr is not None
    lines: list[str] = []

    def read(stream: IO[str]) -> None:
        for line in stream:
            lines.append(line)
            on_line(line)

    reader = threading.Thread(target=read, args=(proc.stderr,))
    reader.start()
    try:
        proc.wait(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join()
    return proc.returncode, "".join(lines), report


def test_a_signal_stops_every_process_before_its_next_batch(sb: Sandbox, tmp_path: Path) -> None:
    seed(sb)
    before = registry_state(sb)
    process: dict[str, Any] = {}
    workers: list[int] = []
    deletes_at_signal: list[int] = []

    def terminate(_: object) -> None:
        # The third BatchDeleteImage: both processes are executing by then (a worker
        # that was handed nothing would have been ended before anything executes).
        workers.extend(worker_pids(process["cleaner"].pid))
        deletes_at_signal.append(sb.faults.calls["BatchDeleteImage"])
        process["cleaner"].send_signal(signal.SIGTERM)

    sb.faults.after_call("BatchDeleteImage", 3, terminate)
    sb.faults.add_latency("BatchDeleteImage", 0.2)
    returncode, err, report_path = run_cli(tmp_path, process)

    assert returncode == 143, err
    assert workers, "the worker took no part"
    report = json.loads(report_path.read_text())
    # Each process finishes the batch it is in (its re-describe and delete go together)
    # and starts no other: at most one more call each.
    assert deletes_at_signal == [3]
    assert 3 <= sb.faults.calls["BatchDeleteImage"] <= 3 + 2
    left = registry_state(sb)
    statuses = set()
    for plan in report["repositories"]:
        key = f"us-east-1/{plan['repository']}"
        for action in plan["actions"]:
            statuses.add(action["status"])
            present = action["digest"] in left[key]
            assert present == (action["status"] == "skipped"), action  # the report is true
            if action["status"] == "skipped":
                assert action["reason"].endswith("not attempted: stopped by SIGTERM")
        assert set(left[key]) <= set(before[key])
    assert statuses == {"deleted", "skipped"}
    assert any(w.startswith("stopped by SIGTERM") for w in report["warnings"])
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [e["exit_code"] for e in events if e["event"] == "run_finished"] == [143]
    # Every process's events come out whole, one a line, in the same format.
    actions = [a for p in report["repositories"] for a in p["actions"]]
    deleted = sum(1 for a in actions if a["status"] == "deleted")
    assert sum(1 for e in events if e["event"] == "image_deleted") == deleted
    others = [line for line in err.splitlines() if line and not line.startswith("{")]
    assert others == ["ecr-cleaner: SIGTERM: stopping before the next batch (again: exit at once)"]
    assert "Traceback" not in err


def test_a_second_signal_ends_every_process_at_once(sb: Sandbox, tmp_path: Path) -> None:
    seed(sb)
    process: dict[str, Any] = {}
    stopping = threading.Event()
    workers: list[int] = []  # pidfds of the run's worker processes

    def watch(line: str) -> None:
        if "SIGTERM: stopping before the next batch" in line:
            stopping.set()

    def twice(_: object) -> None:
        # The first delete's answer waits here: the run cannot end in between.
        workers.extend(os.pidfd_open(pid) for pid in worker_pids(process["cleaner"].pid))
        process["cleaner"].send_signal(signal.SIGTERM)
        assert stopping.wait(30)  # the first was handled; now the second
        process["cleaner"].send_signal(signal.SIGTERM)

    sb.faults.after_call("BatchDeleteImage", 1, twice)
    returncode, err, report_path = run_cli(tmp_path, process, watch)

    assert returncode == 143, err
    assert "second SIGTERM: exiting at once" in err
    assert not report_path.exists()
    assert '"run_finished"' not in err
    assert workers, "the worker took no part"
    for pidfd in workers:  # ... and every other process of the run ended too
        assert select.select([pidfd], [], [], 30)[0], "a worker outlived the run"
        os.close(pidfd)
