"""Planner: which literal repository names of a target count as not found."""
# ruff: noqa: E501  (one row per line keeps the table readable)

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from cleaner.aws.ecr import ManifestCache
from cleaner.config.load import parse_config
from cleaner.config.model import Target
from cleaner.core.model import RepositoryPlan, RepositoryRef, Shard
from cleaner.run.scan import Planner

NOW = datetime(2027, 1, 1, tzinfo=UTC)
CALLER = "111111111111"


class FakeEcr:
    """DescribeRepositories answers these names (in the caller's registry, or the one
    asked for); every repository is empty."""

    def __init__(self, names: list[str]) -> None:
        self.names = names

    def describe_repositories(self, **params: Any) -> dict[str, Any]:
        registry = params.get("registryId", CALLER)
        return {"repositories": [{"registryId": registry, "repositoryName": n} for n in self.names]}

    def describe_images(self, **params: Any) -> dict[str, Any]:
        return {"imageDetails": []}


class FakeClients:
    def __init__(self, names: list[str]) -> None:
        self.ecr = FakeEcr(names)

    def for_target(self, service: str, target: Target, lane: str = "") -> Any:
        return self.ecr


def plan(
    target: dict[str, Any], existing: list[str], shard: Shard | None = None
) -> tuple[list[RepositoryPlan], list[str]]:
    config = parse_config(
        {
            "version": 1,
            "targets": [target],
            "policies": [
                {"name": "frozen", "repositories": ["team-a/frozen"], "rules": []},
                {
                    "name": "team-a",
                    "repositories": ["team-a/*"],
                    "rules": [{"name": "r", "keep": {"most_recent": 1}}],
                },
            ],
        }
    )
    planner = Planner(config, FakeClients(existing), NOW, ManifestCache(), shard)
    with ThreadPoolExecutor(2) as pool:
        planned = planner.plan_all(pool)
    return [p.plan for p in planned], planner.warnings


def missing(plans: list[RepositoryPlan]) -> list[tuple[RepositoryRef, str | None, bool]]:
    return [(p.repository, p.policy, p.failed) for p in plans if p.error == "repository not found"]


def ref(name: str, registry: str = CALLER) -> RepositoryRef:
    return RepositoryRef("us-east-1", registry, name)


# fmt: off
CASES = [
    # the target's repositories, existing repositories, expected missing entries
    pytest.param(["team-a/apii"], ["team-a/api"], [(ref("team-a/apii"), "team-a", False)], id="typo"),
    pytest.param(["team-a/frozen"], [], [(ref("team-a/frozen", "default"), "frozen", False)], id="empty-registry-policy-without-rules"),
    pytest.param(["team-a/api", "team-a/api"], ["team-a/api"], [], id="exists"),
    pytest.param(["team-a/ap?", "team-a/[x]", "team-a/*"], [], [], id="globs-never"),
    pytest.param(["team-a/apii", "!team-a/ap*"], ["team-a/api"], [], id="excluded"),
    pytest.param(["other/apii"], ["team-a/api"], [], id="no-policy"),
    pytest.param(["team-a/x", "team-a/x"], [], [(ref("team-a/x", "default"), "team-a", False)], id="named-twice-reported-once"),
]
# fmt: on


@pytest.mark.parametrize(("globs", "existing", "expected"), CASES)
def test_literal_names_the_registry_lacks(
    globs: list[str], existing: list[str], expected: list[tuple[RepositoryRef, str, bool]]
) -> None:
    plans, warnings = plan({"region": "us-east-1", "repositories": globs}, existing)
    assert missing(plans) == expected
    assert warnings == [
        f"repository {r.name} not found in {r.region}/{r.registry_id}" for r, _, _ in expected
    ]


def test_a_named_registry_is_named_in_the_warning() -> None:
    registry = "222222222222"
    target = {"region": "us-east-1", "registry_id": registry, "repositories": ["team-a/apii"]}
    plans, warnings = plan(target, [])
    assert missing(plans) == [(ref("team-a/apii", registry), "team-a", False)]
    assert warnings == [f"repository team-a/apii not found in us-east-1/{registry}"]


def test_only_the_shard_that_owns_a_missing_name_reports_it() -> None:
    target = {"region": "us-east-1", "repositories": [f"team-a/r{n}" for n in range(8)]}
    shards = [Shard(k, 3) for k in range(3)]
    found = [missing(plan(target, ["team-a/api"], shard)[0]) for shard in shards]
    names = sorted(r.name for part in found for r, _, _ in part)
    assert names == [f"team-a/r{n}" for n in range(8)]  # each once, over all shards
    for shard, part in zip(shards, found, strict=True):
        assert all(shard.owns(r) for r, _, _ in part)
