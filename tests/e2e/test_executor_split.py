"""A tag removal of more than 100 tags goes in shares of 100, each re-checked against
what the registry really holds: the tags earlier shares really removed, and no others."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cleaner.aws.ecr import ManifestCache, Registry
from cleaner.core.model import Action, ActionKind, RepositoryPlan, Status
from cleaner.run.executor import execute
from cleaner.sandbox import RepoSeeder, Sandbox

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TAGS = tuple(f"t{n:03}" for n in range(250))


def remove_all_but_keep(registry: Registry, dry_run: bool) -> tuple[Action, str]:
    inventory = registry.inventory(registry.repositories()[0], ManifestCache())
    (digest,) = inventory.images
    action = Action(ActionKind.REMOVE_TAG, digest, TAGS, "r", "old", 0)
    plan = RepositoryPlan(inventory.repository, "p", 1, (action,))
    expected = {digest: inventory.images[digest].tags}
    (done,) = execute(plan, registry, expected, dry_run=dry_run).actions
    return done, digest


@pytest.mark.parametrize(
    ("dry_run", "status", "deletes", "left"),
    [
        pytest.param(True, Status.PLANNED, 0, ("keep", *TAGS), id="dry-run"),
        pytest.param(False, Status.DELETED, 3, ("keep",), id="run"),
    ],
)
def test_every_share_is_checked_against_the_registry(
    sb: Sandbox,
    registry: Registry,
    repo: RepoSeeder,
    dry_run: bool,
    status: Status,
    deletes: int,
    left: tuple[str, ...],
) -> None:
    digest = repo.image([*TAGS, "keep"], pushed_at=T0)
    done, _ = remove_all_but_keep(registry, dry_run)
    assert (done.status, done.reason, done.failure_code) == (status, "old", None)
    assert repo.snapshot() == {digest: left}
    assert sb.faults.calls["BatchDeleteImage"] == deletes
    assert sb.faults.calls["DescribeImages"] == 1 + 3  # inventory, one re-describe a share


def test_a_tag_added_between_shares_stops_the_rest(
    sb: Sandbox, registry: Registry, repo: RepoSeeder
) -> None:
    digest = repo.image([*TAGS, "keep"], pushed_at=T0)
    sb.faults.after_call("BatchDeleteImage", 1, lambda store: repo.repo.set_tag("pushed", digest))
    done, _ = remove_all_but_keep(registry, dry_run=False)
    assert done.status is Status.SKIPPED
    assert done.reason.startswith("old; changed since inventory: tags now ")
    assert repo.snapshot() == {digest: tuple(sorted([*TAGS[100:], "keep", "pushed"]))}
    assert sb.faults.calls["BatchDeleteImage"] == 1
