"""`serve --report-dir`: one JSON and one HTML report per run, written atomically, the
newest N kept; what serve's index page lists; which names can be served."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from serve_support import NOW, action, report

from cleaner.config.notify_model import DEFAULT_STORAGE_PRICE
from cleaner.core.model import Status
from cleaner.report.directory import ReportDirectory
from cleaner.report.model import monthly_savings_usd


def test_reports_are_named_by_time_and_run_and_only_the_newest_are_kept(tmp_path: Path) -> None:
    directory = ReportDirectory(tmp_path / "reports", keep=3)
    written = [directory.write(report(now=NOW + timedelta(hours=n)), f"run{n}") for n in range(5)]
    assert written[0].name == "report-20270103T030000.000000Z-run0.json"
    assert [p.name for p in directory.reports()] == [p.name for p in written[2:]]
    # Each JSON report has its HTML beside it; pruning removed both.
    kept = sorted(n for p in written[2:] for n in (p.name, p.with_suffix(".html").name))
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == kept
    assert json.loads(written[-1].read_text())["now"] == (NOW + timedelta(hours=4)).isoformat()
    html = written[-1].with_suffix(".html").read_text()
    assert html.startswith("<!doctype html>") and "ecr-cleaner run" in html


def test_keep_zero_keeps_every_report(tmp_path: Path) -> None:
    directory = ReportDirectory(tmp_path, keep=0)
    for n in range(4):
        directory.write(report(now=NOW + timedelta(minutes=n)), f"r{n}")
    assert len(directory.reports()) == 4


def test_other_files_in_the_directory_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text("{}")
    directory = ReportDirectory(tmp_path, keep=1)
    for n in range(3):
        directory.write(report(now=NOW + timedelta(minutes=n)), f"r{n}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.json",
        "report-20270103T030200.000000Z-r2.html",
        "report-20270103T030200.000000Z-r2.json",
    ]


def test_the_outcome_goes_into_the_json_and_the_html(tmp_path: Path) -> None:
    directory = ReportDirectory(tmp_path)
    path = directory.write(report(action(1, Status.FAILED, "Boom")), "r1", outcome="failures")
    document = json.loads(path.read_text())
    assert document["outcome"] == "failures"
    assert document["summary"]["failures"] == 1  # the rest is the report as always
    assert (
        'outcome <span class="outcome-failures">failures</span>'
        in path.with_suffix(".html").read_text()
    )


def test_entries_list_the_newest_runs_first_from_memory_or_from_disk(tmp_path: Path) -> None:
    directory = ReportDirectory(tmp_path, keep=3)
    for n in range(4):
        deleted = [action(k + 1, Status.DELETED) for k in range(n)]
        directory.write(report(*deleted, now=NOW + timedelta(hours=n)), f"r{n}", "success")
    (tmp_path / "report-20270103T090000.000000Z-bad.json").write_text("not json")
    fresh = ReportDirectory(tmp_path, keep=3)  # a restarted serve reads them back
    for entries in (directory.entries(), fresh.entries()):
        assert [e.base[-2:] for e in entries] == ["r3", "r2", "r1"]  # the bad one left out
        newest = entries[0]
        assert (newest.images_deleted, newest.bytes_reclaimed) == (3, 6000)
        assert newest.savings_usd == monthly_savings_usd(6000, DEFAULT_STORAGE_PRICE)
        assert (newest.mode, newest.outcome, newest.has_html) == ("run", "success", True)
        assert newest.now == (NOW + timedelta(hours=3)).isoformat()
    assert [e.base[-2:] for e in fresh.entries(limit=2)] == ["r3", "r2"]


def test_a_report_without_an_outcome_or_html_is_still_listed(tmp_path: Path) -> None:
    directory = ReportDirectory(tmp_path)
    path = directory.write(report(), "r1")
    path.with_suffix(".html").unlink()
    (entry,) = ReportDirectory(tmp_path).entries()
    assert entry.outcome is None and entry.has_html is False


@pytest.mark.parametrize(
    "name",
    [
        "../secret.json",
        "..%2fsecret.json",
        "/etc/passwd",
        "notes.json",  # in the directory, but not a report
        ".report-20270103T030000.000000Z-r1.json.tmp",
        "report-20270103T030000.000000Z-r1.txt",
        "report-20270103T030000.000000Z-r1.json/../../secret.json",
        "report-20270103T030000.000000Z-nope.json",  # no such report
        "report-x/../../secret.json",
        "",
    ],
)
def test_only_report_files_of_the_directory_can_be_looked_up(tmp_path: Path, name: str) -> None:
    reports = tmp_path / "reports"
    directory = ReportDirectory(reports)
    directory.write(report(), "r1")
    (reports / "notes.json").write_text("{}")
    (tmp_path / "secret.json").write_text("{}")
    assert directory.file(name) is None


def test_report_files_are_found_by_their_names(tmp_path: Path) -> None:
    directory = ReportDirectory(tmp_path)
    path = directory.write(report(), "r1")
    assert directory.file(path.name) == path
    assert directory.file(path.with_suffix(".html").name) == path.with_suffix(".html")
