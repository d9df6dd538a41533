"""`/healthz` and `/metrics` over real HTTP on 127.0.0.1, and the metrics' values."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest
from apscheduler.triggers.date import DateTrigger  # type: ignore[import-untyped]
from prometheus_client import CollectorRegistry, Counter, generate_latest
from serve_support import NOW, FakeRunner, action, report, service

from cleaner import __version__
from cleaner.core.model import ActionKind, Status
from cleaner.run.pipeline import RunResult
from cleaner.serve.http import HealthServer, parse_listen
from cleaner.serve.service import ServeOptions, Service

FAR = DateTrigger(run_date=datetime(2099, 1, 1, tzinfo=UTC))


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


@pytest.fixture
def endpoint() -> Any:
    servers: list[HealthServer] = []

    def start(svc: Service) -> str:
        server = HealthServer("127.0.0.1", 0, svc.health, svc.metrics.render).start()
        servers.append(server)
        host, port = server.address
        return f"http://{host}:{port}"

    yield start
    for server in servers:
        server.stop()


def metric(text: str, name: str) -> float:
    """The value of one sample line, `name` including its labels."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in metrics:\n{text}")


def test_healthz_is_200_with_last_and_next_run_then_503_after_a_crash(endpoint: Any) -> None:
    runner = FakeRunner(results=[RunResult(report(), 0), RuntimeError("boom")])
    svc = service(runner)
    scheduler = svc.build_scheduler(FAR)
    scheduler.start(paused=True)
    base = endpoint(svc)
    try:
        status, ctype, body = get(base + "/healthz")
        assert (status, ctype) == (200, "application/json")
        data = json.loads(body)
        assert data["status"] == "ok"
        assert data["last_run"] is None
        assert data["next_run"] == "2099-01-01T00:00:00+00:00"
        assert data["schedule"] == {"cron": "0 3 * * 0", "timezone": "UTC"}

        svc.run_pass()
        data = json.loads(get(base + "/healthz")[2])
        assert data["last_run"]["exit_code"] == 0
        assert data["last_run"]["outcome"] == "success"
        assert data["last_run"]["started_at"] == NOW.isoformat()
        assert len(data["last_run"]["run_id"]) == 32

        svc.run_pass()
        status, _, body = get(base + "/healthz")
        assert status == 503
        assert json.loads(body)["last_run"]["outcome"] == "error"
    finally:
        scheduler.shutdown(wait=False)
    assert get(base + "/healthz")[0] == 503  # the scheduler is down
    assert get(base + "/nothing")[0] == 404


def test_metrics_count_runs_deletions_failures_and_time(endpoint: Any) -> None:
    run = report(
        action(1, Status.DELETED),
        action(2, Status.DELETED),
        action(3, Status.DELETED, kind=ActionKind.REMOVE_TAG),
        action(4, Status.FAILED, "KmsError"),
        action(5, Status.SKIPPED),
    )
    runner = FakeRunner(results=[RunResult(run, 1), RuntimeError("boom"), RunResult(report(), 0)])
    svc = service(runner)  # the fake monotonic clock advances 5 s per reading
    base = endpoint(svc)
    for _ in range(3):
        svc.run_pass()
    status, ctype, text = get(base + "/metrics")
    assert status == 200
    assert ctype.startswith("text/plain; version=")
    assert metric(text, 'ecr_cleaner_runs_total{outcome="failures"}') == 1
    assert metric(text, 'ecr_cleaner_runs_total{outcome="error"}') == 1
    assert metric(text, 'ecr_cleaner_runs_total{outcome="success"}') == 1
    assert metric(text, 'ecr_cleaner_runs_total{outcome="limit"}') == 0
    assert metric(text, "ecr_cleaner_images_deleted_total") == 2
    assert metric(text, "ecr_cleaner_tags_removed_total") == 1
    assert metric(text, "ecr_cleaner_bytes_reclaimed_total") == 3000
    assert metric(text, 'ecr_cleaner_failures_total{code="KmsError"}') == 1
    assert metric(text, "ecr_cleaner_last_success_timestamp_seconds") == (
        NOW.timestamp() + 5  # the fake report finishes 5 s after `now`
    )
    assert metric(text, "ecr_cleaner_run_duration_seconds_count") == 3
    assert metric(text, "ecr_cleaner_run_duration_seconds_sum") == 15
    assert metric(text, "ecr_cleaner_run_in_progress") == 0
    assert metric(text, "ecr_cleaner_images_scanned") == 10


def test_a_dry_run_counts_as_a_run_but_deletes_nothing_and_its_failures_count() -> None:
    planned = report(
        action(1, Status.PLANNED),
        action(2, Status.PLANNED, kind=ActionKind.REMOVE_TAG),
        mode="plan",
        failed=True,
    )
    svc = service(FakeRunner(results=[RunResult(planned, 1)]))
    svc.run_pass()
    text = svc.metrics.render().decode()
    assert metric(text, 'ecr_cleaner_runs_total{outcome="failures"}') == 1
    assert metric(text, "ecr_cleaner_images_deleted_total") == 0
    assert metric(text, "ecr_cleaner_tags_removed_total") == 0
    assert metric(text, "ecr_cleaner_bytes_reclaimed_total") == 0
    assert metric(text, 'ecr_cleaner_failures_total{code="RepositoryFailed"}') == 1
    assert metric(text, "ecr_cleaner_images_scanned") == 10
    assert "ecr_cleaner_last_success_timestamp_seconds 0.0" in text
    assert "mode=" not in text  # no series of plans beside the deletions


def test_metrics_have_build_info_and_no_created_series(endpoint: Any) -> None:
    svc = service(FakeRunner(results=[RunResult(report(action(1, Status.DELETED)), 0)]))
    svc.run_pass()
    text = get(endpoint(svc) + "/metrics")[2]
    assert metric(text, f'ecr_cleaner_build_info{{version="{__version__}"}}') == 1
    assert "# TYPE ecr_cleaner_build_info gauge" in text
    assert "ecr_cleaner_run_duration_seconds_count" in text  # the histogram is there...
    assert "_created" not in text  # ...without its _created series, nor the counters'


def test_dropping_created_series_leaves_other_registries_alone() -> None:
    service(FakeRunner()).metrics.render()
    other = CollectorRegistry()
    Counter("elsewhere", "A counter of some other code in the process", registry=other).inc()
    assert "elsewhere_created" in generate_latest(other).decode()


def test_two_services_do_not_share_metrics() -> None:
    first, second = service(FakeRunner()), service(FakeRunner())
    first.run_pass()
    assert metric(first.metrics.render().decode(), 'ecr_cleaner_runs_total{outcome="success"}') == 1
    assert (
        metric(second.metrics.render().decode(), 'ecr_cleaner_runs_total{outcome="success"}') == 0
    )


def test_serve_forever_answers_healthz_while_it_runs() -> None:
    runner = FakeRunner(done_after=1)
    svc = service(runner)
    thread = threading.Thread(
        target=svc.serve_forever, args=(DateTrigger(run_date=datetime.now(UTC)),)
    )
    thread.start()
    try:
        assert svc.listening.wait(5) and runner.done.wait(5)
        assert svc.address is not None
        host, port = svc.address
        status, _, body = get(f"http://{host}:{port}/healthz")
        assert status == 200, body
        assert json.loads(body)["last_run"]["outcome"] == "success"
    finally:
        svc.request_stop()
        thread.join(5)
    assert not thread.is_alive()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
        ("[::1]:9000", ("::1", 9000)),
    ],
)
def test_parse_listen(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["8080", ":8080", "host:", "host:http", "host:70000"])
def test_parse_listen_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_listen(text)


def test_serve_forever_exits_2_when_the_port_is_taken() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        runner = FakeRunner()
        svc = service(runner, ServeOptions(listen=("127.0.0.1", port)))
        assert svc.serve_forever(FAR) == 2
    assert runner.calls == []  # nothing was scheduled
