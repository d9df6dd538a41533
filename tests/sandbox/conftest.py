"""Fixtures: one sandbox server per session, reset before every test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from sandbox_support import REPO

from cleaner.sandbox import RepoSeeder, Sandbox, Seeder

# botocore's retries["max_attempts"] counts retries, not attempts ({"max_attempts": 1} makes
# two attempts), so a client that must see each injected error once sets total_max_attempts.
SINGLE_ATTEMPT = Config(retries={"total_max_attempts": 1, "mode": "standard"})
RETRYING = Config(retries={"max_attempts": 10, "mode": "standard"})


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(host="127.0.0.1", port=0) as server:
        yield server


@pytest.fixture
def sb(sandbox_server: Sandbox) -> Iterator[Sandbox]:
    """The session's sandbox, empty and fault-free. reset() clears the store's images and
    the faults' settings, not the injected clocks and sleep: those are restored here (with
    the pull-recording switch) so that no test leaks them into the next."""
    store, faults = sandbox_server.store, sandbox_server.faults
    saved = (store.clock, store.record_pulls_on_get, faults.clock, faults.sleep)
    sandbox_server.reset()
    yield sandbox_server
    store.clock, store.record_pulls_on_get, faults.clock, faults.sleep = saved
    sandbox_server.reset()


@pytest.fixture(scope="session")
def ecr(sandbox_server: Sandbox) -> Any:
    """ECR client that makes exactly one attempt, so every error is observed as sent."""
    return sandbox_server.client("ecr", config=SINGLE_ATTEMPT)


@pytest.fixture(scope="session")
def retrying_ecr(sandbox_server: Sandbox) -> Any:
    return sandbox_server.client("ecr", config=RETRYING)


@pytest.fixture(scope="session")
def unvalidated_ecr(sandbox_server: Sandbox) -> Any:
    """Skips botocore's client-side checks, to see what the server itself enforces."""
    config = SINGLE_ATTEMPT.merge(Config(parameter_validation=False))
    return sandbox_server.client("ecr", config=config)


@pytest.fixture
def seeder(sb: Sandbox) -> Seeder:
    return Seeder(sb.store)


@pytest.fixture
def repo(seeder: Seeder) -> RepoSeeder:
    """The empty repository `repo` in the default account and region."""
    return seeder.repository(REPO)
