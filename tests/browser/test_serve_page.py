"""serve's index page in headless Chromium over HTTP on 127.0.0.1: the recent runs are
listed, their links open the runs' reports with their charts, every request stays on
the local server, and nothing is logged as an error."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from report_sample import sample_report

from cleaner.report.directory import ReportDirectory
from cleaner.serve.http import HealthServer

from .conftest import Watched

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HEALTH = {
    "status": "ok",
    "dry_run": False,
    "schedule": {"cron": "0 3 * * 0", "timezone": "Europe/Paris"},
    "next_run": "2027-01-24T02:00:00+00:00",
    "last_run": None,
}
RUNS = [("plan", "success"), ("run", "failures"), ("run", "success")]  # oldest first


@pytest.fixture
def index(tmp_path: Path) -> Iterator[str]:
    reports = ReportDirectory(tmp_path / "reports")
    for week, (mode, outcome) in enumerate(RUNS):
        report = sample_report(mode, hostile=False, failing=outcome == "failures")
        moved = report.now + timedelta(days=7 * week)
        finished = moved + timedelta(seconds=42 + week)
        report = dataclasses.replace(report, now=moved, started_at=moved, finished_at=finished)
        reports.write(report, f"{week:04x}beefcafe", outcome)
    server = HealthServer("127.0.0.1", 0, lambda: (True, HEALTH), lambda: b"", reports).start()
    host, port = server.address
    yield f"http://{host}:{port}"
    server.stop()


def test_the_index_lists_the_runs_and_links_to_their_reports(
    watched: Watched, index: str, screenshots: Path
) -> None:
    page = watched.page
    page.goto(index + "/")
    runs = page.locator("#runs tbody tr")
    expect(runs).to_have_count(len(RUNS))
    # Newest first.
    outcomes = page.locator("#runs tbody tr td:nth-child(3)").all_inner_texts()
    assert [o.split()[0] for o in outcomes] == [o for _, o in reversed(RUNS)]
    modes = page.locator("#runs tbody tr td:nth-child(2)").all_inner_texts()
    assert modes == [m for m, _ in reversed(RUNS)]
    failures = page.locator("#runs tbody tr").nth(1).locator("td").nth(2)
    expect(failures).to_have_text("failures (2 failures)")  # a repository, a deletion
    expect(page.locator("#runs a")).to_have_count(2 * len(RUNS))
    page.screenshot(path=str(screenshots / "serve-index.png"))

    page.locator("#runs tbody tr").nth(1).get_by_role("link", name="HTML").click()
    page.wait_for_selector("body[data-ready=true]")
    expect(page).to_have_url(index + "/reports/report-20270108T000000.000000Z-0001beefcafe.html")
    expect(page.locator("h1")).to_have_text("ecr-cleaner run")
    expect(page.locator("#bytes-chart rect.bar")).to_have_count(20)
    expect(page.locator(".meta")).to_contain_text("outcome failures")
    page.go_back()
    page.locator("#runs tbody tr").first.get_by_role("link", name="JSON").click()
    expect(page).to_have_url(re.compile(r"/reports/report-[0-9T.]+Z-0002beefcafe\.json$"))

    assert watched.problems == []
    assert watched.requests and all(url.startswith(index + "/") for url in watched.requests)
