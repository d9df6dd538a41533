"""Fixtures for end-to-end tests: the cleaner's own code against the sandbox over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cleaner.aws.clients import RETRY_CONFIG, Clients
from cleaner.aws.ecr import Registry
from cleaner.sandbox import RepoSeeder, Sandbox, Seeder

ACCOUNT = "123456789012"
REGION = "us-east-1"


@pytest.fixture(scope="session")
def sandbox_session() -> Iterator[Sandbox]:
    with Sandbox() as server:
        yield server


@pytest.fixture
def sb(sandbox_session: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """An empty, fault-free sandbox that boto3 (and the CLI) reach through the environment."""
    sandbox_session.reset()
    for name, value in sandbox_session.environment().items():
        monkeypatch.setenv(name, value)
    yield sandbox_session
    sandbox_session.reset()


@pytest.fixture(params=["botocore", "fast calls"])
def ecr(sb: Sandbox, request: pytest.FixtureRequest) -> Any:
    """An ECR client with botocore's own calls, and one with the cleaner's fast path for
    the hot calls (cleaner/aws/fast_calls.py): every test of the Registry runs on both."""
    if request.param == "fast calls":
        return Clients().client("ecr", REGION, config=RETRY_CONFIG)
    return sb.client("ecr", config=RETRY_CONFIG)


@pytest.fixture
def registry(ecr: Any) -> Registry:
    return Registry(ecr, REGION)


@pytest.fixture
def seeder(sb: Sandbox) -> Seeder:
    return Seeder(sb.store)


@pytest.fixture
def repo(seeder: Seeder) -> RepoSeeder:
    return seeder.repository("app")
