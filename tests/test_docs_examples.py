"""docs/examples.md shows exactly the example policies and the plans `plan` prints for them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each example in a subprocess: ~2 s

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs/examples.md"


@pytest.mark.parametrize("example", ["feature-branches", "untagged", "releases"])
def test_docs_show_the_real_plan_output(example: str) -> None:
    shown = subprocess.run(
        [sys.executable, str(ROOT / "docs/examples/show.py"), example],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    page = PAGE.read_text()
    assert shown.strip() in page
    assert (ROOT / f"docs/examples/{example}.yaml").read_text().strip() in page
