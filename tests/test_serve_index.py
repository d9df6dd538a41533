"""serve's index page at `/` and its report files, over real HTTP on 127.0.0.1: recent
runs newest first with links that work, escaped texts, and nothing outside the report
directory (nor any file in it that is not a report) reachable by any path."""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.date import DateTrigger  # type: ignore[import-untyped]
from serve_support import NOW, FakeRunner, action, report, service

from cleaner.core.model import Status
from cleaner.report.directory import ReportDirectory
from cleaner.run.pipeline import RunResult
from cleaner.serve.http import HealthServer
from cleaner.serve.service import ServeOptions

HEALTH = {
    "status": "ok",
    "dry_run": False,
    "schedule": {"cron": "0 3 * * 0", "timezone": "UTC"},
    "next_run": "2027-01-10T03:00:00+00:00",
    "last_run": None,
}
SECRET = "top secret: must never be served"


def get(port: int, path: str) -> tuple[int, str, bytes]:
    """A raw GET: `path` goes on the request line exactly as given (no normalising)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        connection.close()


def filled(root: Path) -> ReportDirectory:
    """Three runs' reports, and beside them files that are not reports."""
    (root / "secret.json").write_text(SECRET)
    directory = ReportDirectory(root / "reports")
    directory.write(report(action(1, Status.DELETED), now=NOW), "aaa", "success")
    failed = action(2, Status.FAILED, "Boom")
    directory.write(report(failed, now=NOW + timedelta(days=7)), "bbb", "failures")
    directory.write(report(now=NOW + timedelta(days=14), mode="plan"), "ccc", "stopped")
    (directory.path / "notes.txt").write_text(SECRET)
    (directory.path / "report-notes.json.bak").write_text(SECRET)
    return directory


@contextmanager
def serving(reports: ReportDirectory) -> Iterator[int]:
    server = HealthServer("127.0.0.1", 0, lambda: (True, HEALTH), lambda: b"", reports).start()
    try:
        yield server.address[1]
    finally:
        server.stop()


# One directory and one server for the tests that only read them (a server's stop
# waits out its poll interval); a test that changes the directory fills its own.
@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> ReportDirectory:
    return filled(tmp_path_factory.mktemp("serve-index"))


@pytest.fixture(scope="module")
def port(reports: ReportDirectory) -> Iterator[int]:
    with serving(reports) as number:
        yield number


def rows(page: str) -> list[str]:
    return re.findall(r'<tr data-run="([^"]+)">', page)


def test_index_lists_recent_runs_newest_first_with_their_facts(port: int) -> None:
    status, content_type, body = get(port, "/")
    page = body.decode()
    assert status == 200 and content_type == "text/html; charset=utf-8"
    assert [r[-3:] for r in rows(page)] == ["ccc", "bbb", "aaa"]
    assert "2027-01-17 03:00:00 UTC" in page and "2027-01-03 03:00:00 UTC" in page
    assert '<span class="outcome-failures">failures</span> (1 failure)' in page
    assert '<span class="outcome-stopped">stopped</span>' in page
    assert "status <strong>ok</strong>" in page and "<code>0 3 * * 0</code>" in page
    assert 'href="/healthz"' in page and 'href="/metrics"' in page
    assert "http://" not in page and "https://" not in page  # nothing to fetch
    assert "upper bound" in page


def test_every_link_of_the_index_serves_its_report(port: int, reports: ReportDirectory) -> None:
    page = get(port, "/")[2].decode()
    links = re.findall(r'href="(/reports/[^"]+)"', page)
    assert len(links) == 6  # HTML and JSON of each of the three runs
    for link in links:
        status, content_type, body = get(port, link)
        name = link.removeprefix("/reports/")
        assert status == 200
        assert body == (reports.path / name).read_bytes()
        if name.endswith(".json"):
            assert content_type == "application/json"
            assert json.loads(body)["outcome"] in {"success", "failures", "stopped"}
        else:
            assert content_type == "text/html; charset=utf-8"
            assert body.startswith(b"<!doctype html>")


@pytest.mark.parametrize(
    "path",
    [
        "/reports/../secret.json",
        "/reports/..%2fsecret.json",
        "/reports/%2e%2e/secret.json",
        "/reports/%2e%2e%2fsecret.json",
        "/reports/..%5csecret.json",
        "/reports//etc/passwd",
        "/reports/%2fetc%2fpasswd",
        "/reports/notes.txt",
        "/reports/report-notes.json.bak",
        "/reports/",
        "/reports",
        "/../secret.json",
        "/secret.json",
        "/reports/report-20270103T030000.000000Z-aaa.json%00.txt",
        "/reports/report-20270103T030000.000000Z-aaa.json/../../secret.json",
        "/reports/report-x%2f..%2f..%2fsecret.json",
    ],
)
def test_nothing_but_the_reports_can_be_reached(port: int, path: str) -> None:
    status, _, body = get(port, path)
    assert status == 404
    assert SECRET.encode() not in body


def test_a_browser_asking_for_an_icon_gets_an_empty_answer_not_an_error(port: int) -> None:
    assert get(port, "/favicon.ico")[:2] == (204, "image/x-icon")


def test_texts_from_report_files_are_escaped(tmp_path: Path) -> None:
    reports = filled(tmp_path)
    hostile = report(now=NOW + timedelta(days=30)).to_dict()
    hostile.update(mode="<script>alert(1)</script>", outcome='"><img src=x>')
    (reports.path / "report-20270202T030000.000000Z-evil.json").write_text(json.dumps(hostile))
    with serving(reports) as port:
        page = get(port, "/")[2].decode()
    assert "<script>alert" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "report-20270202T030000.000000Z-evil" in rows(page)


def test_without_a_report_dir_the_index_says_how_to_keep_reports() -> None:
    health = {
        **HEALTH,
        "last_run": {"finished_at": "2027-01-03T03:00:05+00:00", "outcome": "limit"},
    }
    server = HealthServer("127.0.0.1", 0, lambda: (True, health), lambda: b"").start()
    try:
        port = server.address[1]
        status, _, body = get(port, "/")
        assert status == 200
        assert b"--report-dir DIR" in body and b"2027-01-03 03:00:05 UTC: limit" in body
        assert get(port, "/reports/anything.json")[0] == 404
        assert get(port, "/healthz")[0] == 200
    finally:
        server.stop()


def test_serve_lists_its_own_runs_on_its_index_page(tmp_path: Path) -> None:
    runner = FakeRunner(
        results=[RunResult(report(action(1, Status.DELETED), action(2, Status.DELETED)), 0)]
    )
    svc = service(runner, ServeOptions(listen=("127.0.0.1", 0), report_dir=tmp_path))
    assert svc.run_pass() == 0  # done and written before the page is asked for
    codes: list[int] = []
    far = DateTrigger(run_date=datetime(2099, 1, 1, tzinfo=UTC))
    thread = threading.Thread(target=lambda: codes.append(svc.serve_forever(far)))
    thread.start()
    try:
        assert svc.listening.wait(5) and svc.address is not None
        page = get(svc.address[1], "/")[2].decode()
    finally:
        svc.request_stop()
        thread.join(5)
    assert codes == [0]
    assert len(rows(page)) == 1
    assert '<span class="outcome-success">success</span>' in page
    assert '<td class="num">2</td>' in page  # images deleted
    (written,) = tmp_path.glob("report-*.json")
    assert json.loads(written.read_text())["outcome"] == "success"
    assert written.with_suffix(".html").is_file()
