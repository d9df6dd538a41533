"""README's worked examples show exactly what `plan` prints for them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("example", ["feature-branches", "untagged", "releases"])
def test_readme_shows_the_real_plan_output(example: str) -> None:
    shown = subprocess.run(
        [sys.executable, str(ROOT / "docs/examples/show.py"), example],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    readme = (ROOT / "README.md").read_text()
    assert shown.strip() in readme
    assert (ROOT / f"docs/examples/{example}.yaml").read_text().strip() in readme
