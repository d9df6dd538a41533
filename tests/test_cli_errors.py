"""What the command line prints for bad input: one line per error, each with its place."""

from __future__ import annotations

from pathlib import Path

import pytest

from cleaner.cli import main

BAD = """\
version: "1"
targets: [{region: us-east-1}]
policies:
  - name: p
    rules:
      - name: r
        expire: {pushed_before: 7x}
schedule: {cron: "61 * * * *"}
"""


@pytest.mark.parametrize("command", ["validate", "plan", "run", "serve"])
def test_config_errors_are_one_line_each_with_file_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    assert main([command, "--config", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"{path}:1:10: version: must be the number 1, not a string (got '1')",
        f"{path}:7:33: policies[0].rules[0].expire.pushed_before: must be a duration: an integer"
        " and a unit s, m, h, d or w, like 14d (got '7x')",
        f"{path}:8:18: schedule.cron: invalid cron expression: minute field '61': must be 0-59",
    ]


def test_a_missing_file_is_one_line_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nope.yaml"
    assert main(["validate", "--config", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [f"{path}: no such file"]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--keep-reports", "-1", "expected a whole number of reports >= 0, got '-1'"),
        ("--keep-reports", "2.5", "expected a whole number of reports >= 0, got '2.5'"),
        ("--jitter", "-1", "expected a whole number of seconds >= 0, got '-1'"),
        ("--misfire-grace", "1h", "expected a whole number of seconds >= 0, got '1h'"),
        ("--misfire-grace", "²", "expected a whole number of seconds >= 0, got '²'"),
    ],
)
def test_serve_options_name_their_unit(
    capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--config", "policy.yaml", option, value])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"ecr-cleaner serve: error: argument {option}: {message}"
    )
