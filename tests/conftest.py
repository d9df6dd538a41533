"""Settings for the whole test session.

The cyclic garbage collector. `serve` ends each pass with a full collection
(cleaner/serve/recorder.py): in a serve process that walks a few hundred thousand
objects in a few milliseconds. In the test process it also walks pytest, hypothesis,
every test module, moto's backends and botocore's service models, about 100 ms a
walk: the fast set's ~40 serve passes spent a fifth of its CPU there. What exists
when collection ends, and again whenever the heap has grown a lot since, lives for the
session anyway: gc.freeze() moves it out of the collector's reach, after a collection,
so no garbage is frozen. Whatever a test creates is still collected as before.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

# Memory blocks allocated since the last freeze that make the next test module freeze
# again (one collection, ~100 ms): the session ends with about 2.5 million.
_REFREEZE_GROWTH = 200_000
_frozen_at = 0


def _freeze() -> None:
    global _frozen_at
    gc.collect()
    gc.freeze()
    _frozen_at = sys.getallocatedblocks()


def pytest_collection_finish(session: pytest.Session) -> None:
    _freeze()


@pytest.fixture(autouse=True, scope="module")
def _freeze_what_the_session_keeps() -> Iterator[None]:
    """Moto's backends, botocore's models and the like load on first use, in tests."""
    if sys.getallocatedblocks() - _frozen_at > _REFREEZE_GROWTH:
        _freeze()
    yield


@pytest.fixture(autouse=True)
def _one_process_unless_a_test_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs default to one process here: a worker is a fresh interpreter
    (about half a second of CPU), and the default of the machine's cores would start
    one for nearly every run of two or more repositories, doubling the fast set's CPU.
    Runs split over processes are tested where a policy says `processes: 2`
    (tests/e2e/test_processes*.py); the default itself in tests/test_processes_split.py
    and by every test that starts the `ecr-cleaner` command."""
    monkeypatch.setattr("cleaner.run.parallel.usable_cores", lambda: 1)
