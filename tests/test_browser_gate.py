"""The browser tests skip, saying why and how to install chromium, only outside CI;
in CI (CI=true) a missing chromium fails them. And the page's assets ship in the wheel."""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTEST = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"]


@pytest.mark.slow  # runs pytest in a subprocess: ~1 s each
@pytest.mark.parametrize(("ci", "outcome"), [("", "1 skipped"), ("true", "1 error")])
def test_a_missing_chromium_skips_outside_ci_and_fails_in_ci(ci: str, outcome: str) -> None:
    env = {**os.environ, "ECR_CLEANER_CHROMIUM": str(ROOT / "no-such-chromium"), "CI": ci}
    run = subprocess.run(
        [*PYTEST, "tests/browser/test_report_page.py", "-k", "picture"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert outcome in run.stdout, run.stdout
    assert "apt-get install -y chromium" in run.stdout
    if ci:
        assert run.returncode != 0 and "CI must run the browser tests" in run.stdout
    else:
        assert run.returncode == 0 and "chromium is not installed" in run.stdout


def test_every_asset_of_the_report_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["cleaner.report"]
    assets = ROOT / "cleaner" / "report" / "assets"
    for path in assets.iterdir():
        name = path.relative_to(assets.parent).as_posix()
        assert any(fnmatch.fnmatch(name, p) for p in patterns), name
