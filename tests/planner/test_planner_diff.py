"""The planner's differential check (bench/planner_diff.py) keeps working: its cases are
valid policies and reproducible, and the same code planned twice, in two processes,
gives the same plans, over cases that reach every part of planning. (Comparing two
commits is what the script is for; a test holds only one.)"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.slow  # two subprocesses

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def diff(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(ROOT))  # bench/ is no installed package
    return importlib.import_module("bench.planner_diff")


def test_a_case_is_the_same_every_time(diff: ModuleType) -> None:
    assert diff.case(3, 17) == diff.case(3, 17)
    assert diff.case(3, 17) != diff.case(3, 18)


def test_the_same_code_twice_plans_the_same_over_every_part_of_planning(
    diff: ModuleType,
) -> None:
    outcome = diff.compare(list(range(300)), seed=5, baseline=ROOT, verbose=False)
    assert outcome.differing == []
    for shape in (
        "with delete_image",
        "with remove_tag",
        "with archive_image",
        "with dependents (phase > 0)",
        "held by max_deletion_ratio",
        "keep_at_least spared",
        "protected dependent kept",
        "with warnings",
        "audit findings",
    ):
        assert outcome.totals[shape] > 0, shape
