"""Every file a command writes is checked before any AWS call; a report that cannot be
written after the work is done goes to a fallback file, never nowhere."""

from __future__ import annotations

import json
import shutil
import tempfile
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
"""
OLD = datetime.now(UTC) - timedelta(days=30)  # seeding only; no assertion reads the clock


@pytest.fixture
def policy(tmp_path: Path) -> str:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return str(path)


FILE_COMMANDS = [
    ["run", "--report", "{path}"],
    ["run", "--dry-run", "--report", "{path}"],
    ["plan", "--output", "{path}"],
    ["run", "--html", "{path}"],
    ["run", "--dry-run", "--html", "{path}"],
    ["plan", "--format", "html", "--output", "{path}"],
]
# (command, where its output would go, relative to tmp_path)
CASES = [
    *[(c, "missing/out.json") for c in FILE_COMMANDS],
    *[(c, ".") for c in FILE_COMMANDS],  # a directory where the file should be
    *[(c, "file/out.json") for c in FILE_COMMANDS],  # a file where a directory should be
    (["serve", "--once", "--report-dir", "{path}"], "missing/deeper"),  # one level is made
    (["serve", "--once", "--report-dir", "{path}"], "file"),
    (["serve", "--once", "--report-dir", "{path}"], "file/reports"),
]


@pytest.mark.parametrize(("command", "where"), CASES)
def test_an_unwritable_output_exits_2_before_any_aws_call(
    sb: Sandbox,
    repo: RepoSeeder,
    policy: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    where: str,
) -> None:
    digest = repo.image(pushed_at=OLD)
    (tmp_path / "file").write_text("")
    path = str(tmp_path / where) if where != "." else str(tmp_path)
    argv = [part.replace("{path}", path) for part in command] + ["--config", policy]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"ecr-cleaner: error: {path}: ")
    assert sum(sb.faults.calls.values()) == 0
    assert set(repo.snapshot()) == {digest}


def test_a_report_dir_that_does_not_exist_yet_is_created(
    sb: Sandbox, repo: RepoSeeder, policy: str, tmp_path: Path
) -> None:
    repo.image(pushed_at=OLD)
    reports = tmp_path / "reports"
    assert main(["serve", "--once", "--config", policy, "--report-dir", str(reports)]) == 0
    (written,) = reports.glob("report-*.json")
    assert written.with_suffix(".html").read_text().startswith("<!doctype html>")


def test_run_writes_its_html_report_beside_its_other_outputs(
    sb: Sandbox, repo: RepoSeeder, policy: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    digest = repo.image(pushed_at=OLD)
    html, report = tmp_path / "run.html", tmp_path / "run.json"
    code = main(["run", "--config", policy, "--html", str(html), "--report", str(report)])
    assert code == 0 and repo.snapshot() == {}
    page = html.read_text()
    assert page.startswith("<!doctype html>") and "ecr-cleaner run" in page
    assert digest in page  # in the table's data
    assert '<span class="value">1</span><span class="label">images deleted</span>' in page
    assert json.loads(report.read_text())["summary"]["images_deleted"] == 1
    assert "deleted 1 image" in capsys.readouterr().out  # the table on stdout, as before


def test_plan_format_html_goes_to_stdout(
    sb: Sandbox, repo: RepoSeeder, policy: str, capsys: pytest.CaptureFixture[str]
) -> None:
    digest = repo.image(pushed_at=OLD)
    assert main(["plan", "--config", policy, "--format", "html"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("<!doctype html>") and out.endswith("</html>\n")
    assert digest in out and "a dry run: nothing was deleted" in out
    assert set(repo.snapshot()) == {digest}


def test_a_report_that_cannot_be_written_after_the_run_goes_to_a_fallback_file(
    sb: Sandbox,
    repo: RepoSeeder,
    policy: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    digests = {repo.image(pushed_at=OLD - timedelta(minutes=n)) for n in range(3)}
    out = tmp_path / "out"
    out.mkdir()
    fallback_dir = tmp_path / "tmp"
    fallback_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(fallback_dir))

    def vanish(_store: Any) -> None:  # the volume goes away while the run deletes
        shutil.rmtree(out)

    sb.faults.after_call("BatchDeleteImage", 1, vanish)
    code = main(
        ["run", "--config", policy, "--report", str(out / "r.json"), "--log-format", "json"]
    )
    assert code == 1
    assert repo.snapshot() == {}
    (saved,) = fallback_dir.glob("ecr-cleaner-*-r.json")
    report = json.loads(saved.read_text())
    assert {a["digest"] for a in report["repositories"][0]["actions"]} == digests
    assert report["summary"]["images_deleted"] == 3
    events = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    (lost,) = [e for e in events if e["event"] == "report_not_written"]
    assert lost["level"] == "error" and lost["fallback"] == str(saved)
    assert lost["images_deleted"] == 3 and lost["path"] == str(out / "r.json")
