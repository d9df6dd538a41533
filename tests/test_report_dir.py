"""`serve --report-dir`: one JSON report per run, written atomically, the newest N kept."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from serve_support import NOW, report

from cleaner.report.directory import ReportDirectory


def test_reports_are_named_by_time_and_run_and_only_the_newest_are_kept(tmp_path: Path) -> None:
    directory = ReportDirectory(tmp_path / "reports", keep=3)
    written = [directory.write(report(now=NOW + timedelta(hours=n)), f"run{n}") for n in range(5)]
    assert written[0].name == "report-20270103T030000.000000Z-run0.json"
    assert [p.name for p in directory.reports()] == [p.name for p in written[2:]]
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [p.name for p in written[2:]]
    assert json.loads(written[-1].read_text())["now"] == (NOW + timedelta(hours=4)).isoformat()


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
        "report-20270103T030200.000000Z-r2.json",
    ]
