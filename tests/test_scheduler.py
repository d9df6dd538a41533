"""`serve`'s loop: job configuration, one run at a time, crashes survived, clean stops."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_MAX_INSTANCES  # type: ignore[import-untyped]
from apscheduler.triggers.date import DateTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]
from serve_support import NOW, Clock, FakeRunner, action, config, report, service

from cleaner.aws.ecr import ManifestCache
from cleaner.config.cron import trigger_from_crontab
from cleaner.core.model import Status
from cleaner.run.pipeline import RunResult
from cleaner.serve.service import JOB_ID, ServeOptions

FAR = DateTrigger(run_date=datetime(2099, 1, 1, tzinfo=UTC))


def test_job_never_overlaps_coalesces_and_has_a_misfire_grace() -> None:
    svc = service(FakeRunner(), ServeOptions(misfire_grace=120))
    trigger = trigger_from_crontab("0 3 * * 0", "UTC")
    scheduler = svc.build_scheduler(trigger)
    job = scheduler.get_job(JOB_ID)
    assert job.max_instances == 1
    assert job.coalesce is True
    assert job.misfire_grace_time == 120
    assert job.trigger is trigger
    assert job.func == svc.run_pass


def test_scheduled_next_run_is_the_crontab_sunday() -> None:
    svc = service(FakeRunner())
    scheduler = svc.build_scheduler(trigger_from_crontab("0 3 * * 0", "UTC"))
    scheduler.start(paused=True)
    try:
        nxt = svc.next_run()
        assert nxt is not None
        assert (nxt.strftime("%A"), nxt.hour, nxt.minute) == ("Sunday", 3, 0)
    finally:
        scheduler.shutdown(wait=False)


def test_each_run_reads_the_clock_once_and_shares_the_manifest_cache() -> None:
    runner = FakeRunner()
    clock = Clock()
    svc = service(runner, clock=clock)
    assert svc.run_pass() == 0
    clock.advance(timedelta(days=7))
    assert svc.run_pass() == 0
    first, second = runner.calls
    assert (first["now"], second["now"]) == (NOW, NOW + timedelta(days=7))
    assert isinstance(first["cache"], ManifestCache)
    assert first["cache"] is second["cache"] is svc.cache
    assert first["dry_run"] is False
    assert first["stop"].requested() is False
    svc.request_stop()
    assert first["stop"].requested() is True


def test_a_run_that_raises_is_logged_and_the_next_run_still_happens(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cleaner import logs

    logs.configure("json", "info")
    runner = FakeRunner(results=[RuntimeError("disk on fire"), RunResult(report(), 0)])
    svc = service(runner)
    scheduler = svc.build_scheduler(FAR)
    scheduler.start(paused=True)
    try:
        assert svc.run_pass() is None
        healthy, body = svc.health()
        assert not healthy
        assert body["status"] == "failing"
        assert body["last_run"]["outcome"] == "error"
        assert body["last_run"]["error"] == "RuntimeError: disk on fire"
        assert svc.run_pass() == 0
        healthy, body = svc.health()
        assert healthy and body["status"] == "ok"
    finally:
        scheduler.shutdown(wait=False)
    err = capsys.readouterr().err
    assert '"event": "run_crashed"' in err
    assert "Traceback" in err and "disk on fire" in err


def test_a_run_with_failed_deletions_is_recorded_but_keeps_health() -> None:
    # Liveness must not restart the pod over one KmsError; metrics and the report say it.
    result = RunResult(report(action(1, Status.FAILED, "KmsError")), 1)
    svc = service(FakeRunner(results=[result]))
    scheduler = svc.build_scheduler(FAR)
    scheduler.start(paused=True)
    try:
        assert svc.run_pass() == 1
        healthy, body = svc.health()
        assert healthy
        assert body["last_run"]["outcome"] == "failures"
        assert body["last_run"]["exit_code"] == 1
    finally:
        scheduler.shutdown(wait=False)


def test_health_before_start_and_while_stopping_is_503() -> None:
    svc = service(FakeRunner())
    healthy, body = svc.health()
    assert (healthy, body["status"], body["next_run"]) == (False, "down", None)
    scheduler = svc.build_scheduler(FAR)
    scheduler.start(paused=True)
    try:
        assert svc.health()[0]
        svc.request_stop()
        healthy, body = svc.health()
        assert (healthy, body["status"]) == (False, "stopping")
    finally:
        scheduler.shutdown(wait=False)


def test_runs_happen_on_the_schedule_until_stopped() -> None:
    runner = FakeRunner(done_after=3)
    svc = service(runner)
    exit_code: list[int] = []
    thread = threading.Thread(
        target=lambda: exit_code.append(svc.serve_forever(IntervalTrigger(seconds=0.05)))
    )
    thread.start()
    try:
        assert runner.done.wait(5), "three scheduled runs did not happen"
    finally:
        svc.request_stop()
        thread.join(5)
    assert exit_code == [0]
    assert runner.max_active == 1
    assert svc.last_run is not None and svc.last_run.exit_code == 0


def test_a_run_still_going_when_the_next_is_due_is_skipped_not_overlapped() -> None:
    release = threading.Event()
    runner = FakeRunner(block=release)
    svc = service(runner)
    skipped = threading.Event()
    scheduler = svc.build_scheduler(IntervalTrigger(seconds=0.05))
    scheduler.add_listener(lambda _: skipped.set(), EVENT_JOB_MAX_INSTANCES)
    scheduler.start()
    try:
        assert runner.entered.wait(5)
        assert skipped.wait(5), "APScheduler did not refuse a second instance"
        assert runner.max_active == 1
    finally:
        release.set()
        scheduler.shutdown(wait=True)
    assert runner.max_active == 1


def test_a_stop_during_a_run_waits_for_it_and_records_it_as_stopped(tmp_path: Path) -> None:
    skipped = replace(
        action(2, Status.SKIPPED), reason="pushed 9d ago; not attempted: stopped by SIGTERM"
    )
    result = RunResult(report(action(1, Status.DELETED), skipped), 0, stopped_by="SIGTERM")
    release = threading.Event()
    runner = FakeRunner(results=[result], block=release)
    svc = service(runner, ServeOptions(listen=("127.0.0.1", 0), report_dir=tmp_path))
    codes: list[int] = []
    thread = threading.Thread(
        target=lambda: codes.append(svc.serve_forever(DateTrigger(run_date=datetime.now(UTC))))
    )
    thread.start()
    try:
        assert runner.entered.wait(5)
        svc.request_stop()
        # The run is still blocked: serve_forever must not return before it finishes.
        thread.join(0.3)
        assert thread.is_alive()
    finally:
        release.set()
        thread.join(5)
    assert codes == [0]
    (written,) = tmp_path.glob("report-*.json")
    assert json.loads(written.read_text())["summary"]["images_deleted"] == 1
    assert json.loads(written.read_text())["outcome"] == "stopped"
    # A stopped run is not a success: its own outcome, and no new last-success time.
    assert svc.last_run is not None and svc.last_run.outcome == "stopped"
    metrics = svc.metrics.render().decode()
    assert 'ecr_cleaner_runs_total{outcome="stopped"} 1.0' in metrics
    assert 'ecr_cleaner_runs_total{outcome="success"} 0.0' in metrics
    assert "ecr_cleaner_last_success_timestamp_seconds 0.0" in metrics


def test_serve_needs_a_schedule_unless_once(tmp_path: Path) -> None:
    from cleaner.cli import main

    path = tmp_path / "policy.yaml"
    path.write_text(
        "version: 1\ntargets: [{region: us-east-1}]\n"
        "policies: [{name: p, rules: [{name: r, select: {tag_status: untagged},"
        " expire: {pushed_before: 1d}}]}]\n"
    )
    assert main(["serve", "--config", str(path)]) == 2
    assert main(["serve", "--config", str(path), "--listen", "nonsense"]) == 2


def test_config_helper_has_a_schedule() -> None:
    assert config().schedule is not None


def test_each_run_gets_the_serve_shard() -> None:
    from cleaner.core.model import Shard

    runner = FakeRunner()
    svc = service(runner, ServeOptions(shard=Shard(1, 3)))
    svc.run_pass()
    assert runner.calls[0]["shard"] == Shard(1, 3)
