"""`serve` against the sandbox: logs of a run, and stopping between batches.

The SIGTERM test runs the cleaner as a real process and the sandbox in this one, so
the test can stop the cleaner at an exact point: a sandbox hook sends the signal while
the first BatchDeleteImage is being answered.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cleaner.cli import main
from cleaner.sandbox import RepoSeeder, Sandbox

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


def write_policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return path


def test_serve_once_logs_one_json_object_per_line_with_the_run_id(
    sb: Sandbox, repo: RepoSeeder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(3):
        repo.image(pushed_at=OLD)
    code = main(
        ["serve", "--once", "--config", str(write_policy(tmp_path)), "--log-format", "json"]
    )
    assert code == 0
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert events, "no log lines"
    for event in events:
        assert {"timestamp", "level", "event"} <= event.keys()
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", str(event["timestamp"]))
    run_ids = {e.get("run_id") for e in events}
    (run_id,) = run_ids  # every event belongs to the one run, and carries its id
    assert re.fullmatch(r"[0-9a-f]{32}", str(run_id))
    names = [e["event"] for e in events]
    assert names[0] == "run_started" and names[-1] == "run_recorded"
    assert names.count("image_deleted") == 3
    deleted = next(e for e in events if e["event"] == "image_deleted")
    assert {"repository", "digest", "tags", "rule", "reason"} <= deleted.keys()
    assert sb.store.repository("123456789012", "us-east-1", "app").images == {}


@pytest.mark.slow  # a subprocess stopped by SIGTERM
def test_sigterm_mid_run_finishes_the_batch_writes_the_report_and_exits_0(
    sb: Sandbox, repo: RepoSeeder, tmp_path: Path
) -> None:
    digests = {repo.image(pushed_at=OLD - timedelta(minutes=n)) for n in range(250)}
    reports = tmp_path / "reports"
    process: dict[str, subprocess.Popen[str]] = {}

    def terminate(_store: Any) -> None:
        # Runs in the sandbox as it answers the first batch's re-describe (call 2, after
        # the inventory's one page): the cleaner's main thread then has the first
        # delete's 200 ms to run its signal handler, however loaded the machine is.
        process["cleaner"].send_signal(signal.SIGTERM)

    sb.faults.add_latency("BatchDeleteImage", 0.2)
    sb.faults.after_call("DescribeImages", 2, terminate)
    command = [sys.executable, "-m", "cleaner", "serve", "--once", "--log-format", "json"]
    command += ["--config", str(write_policy(tmp_path)), "--report-dir", str(reports)]
    process["cleaner"] = proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert sb.faults.calls["BatchDeleteImage"] == 1  # no batch after the signal

    (path,) = reports.glob("report-*.json")
    report = json.loads(path.read_text())
    assert any(w.startswith("stopped by SIGTERM:") for w in report["warnings"])
    actions = report["repositories"][0]["actions"]
    by_status: dict[str, set[str]] = {}
    for action in actions:
        by_status.setdefault(action["status"], set()).add(action["digest"])
    assert set(by_status) == {"deleted", "skipped"}
    assert len(by_status["deleted"]) == 100  # the whole first batch
    stopped = "; not attempted: stopped by SIGTERM"
    assert all(a["reason"].endswith(stopped) for a in actions if a["status"] == "skipped")
    assert by_status["deleted"] | by_status["skipped"] == digests
    # The registry is exactly what the report says.
    remaining = set(repo.snapshot())
    assert remaining == by_status["skipped"]
    assert report["summary"]["images_deleted"] == 100
    assert '"event": "run_stopped_early"' in err
