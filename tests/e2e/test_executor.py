"""The executor against the sandbox: batching, ordering, re-describe, every failure path.

Plans here are written by hand so that each test pins one behaviour of deletion itself.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.config import Config

from cleaner.aws.ecr import ManifestCache, Registry
from cleaner.core.model import Action, ActionKind, RepositoryPlan, Status
from cleaner.run.executor import execute
from cleaner.sandbox import RepoSeeder, Sandbox

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def delete(
    digest: str, tags: tuple[str, ...] = (), phase: int = 0, parents: tuple[str, ...] = ()
) -> Action:
    return Action(ActionKind.DELETE_IMAGE, digest, tags, "r", "test", 1, phase, parents=parents)


def untag(digest: str, *tags: str) -> Action:
    return Action(ActionKind.REMOVE_TAG, digest, tuple(tags), "r", "test", 0)


def run(
    registry: Registry, repo: RepoSeeder, actions: list[Action], *, dry_run: bool = False
) -> RepositoryPlan:
    inventory = registry.inventory(registry.repositories()[0], ManifestCache())
    expected = {
        a.digest: inventory.images[a.digest].tags for a in actions if a.digest in inventory.images
    }
    plan = RepositoryPlan(inventory.repository, "p", len(inventory.images), tuple(actions))
    return execute(plan, registry, expected, dry_run=dry_run)


def statuses(plan: RepositoryPlan) -> dict[str, tuple[Status, str | None]]:
    return {a.digest: (a.status, a.failure_code) for a in plan.actions}


def test_deletes_by_digest_and_removes_tags_by_tag(registry: Registry, repo: RepoSeeder) -> None:
    gone = repo.image(["old", "older"], pushed_at=T0)
    shared = repo.image(["stale", "keep"], pushed_at=T0)
    result = run(registry, repo, [delete(gone, ("old", "older")), untag(shared, "stale")])
    assert statuses(result) == {gone: (Status.DELETED, None), shared: (Status.DELETED, None)}
    assert repo.snapshot() == {shared: ("keep",)}


def test_more_than_100_deletions_are_batched(
    sb: Sandbox, registry: Registry, repo: RepoSeeder
) -> None:
    digests = repo.bulk(250, start=T0, tag_every=0)
    result = run(registry, repo, [delete(d) for d in digests])
    assert all(a.status is Status.DELETED for a in result.actions)
    assert repo.snapshot() == {}
    assert sb.faults.calls["BatchDeleteImage"] == 3
    assert sb.faults.calls["DescribeImages"] == 1 + 3  # inventory page + one re-describe a batch


def test_dry_run_never_calls_batch_delete(
    sb: Sandbox, registry: Registry, repo: RepoSeeder
) -> None:
    digests = repo.bulk(150, start=T0, tag_every=0)
    result = run(registry, repo, [delete(d) for d in digests], dry_run=True)
    assert {a.status for a in result.actions} == {Status.PLANNED}
    assert sb.faults.calls["BatchDeleteImage"] == 0
    assert len(repo.snapshot()) == 150


def test_index_goes_before_its_children_in_separate_calls(
    sb: Sandbox, registry: Registry, repo: RepoSeeder
) -> None:
    index = repo.index(["multi"], pushed_at=T0)
    actions = [delete(index.digest, ("multi",))] + [
        delete(c, phase=1, parents=(index.digest,)) for c in index.children
    ]
    result = run(registry, repo, list(reversed(actions)))
    assert {a.status for a in result.actions} == {Status.DELETED}
    assert sb.faults.calls["BatchDeleteImage"] == 2
    assert repo.snapshot() == {}


def test_children_are_not_deleted_when_their_index_fails(
    sb: Sandbox, registry: Registry, repo: RepoSeeder
) -> None:
    index = repo.index(["multi"], pushed_at=T0)
    sb.store.delete_failures[index.digest] = "KmsError"
    actions = [delete(index.digest, ("multi",))] + [
        delete(c, phase=1, parents=(index.digest,)) for c in index.children
    ]
    result = run(registry, repo, actions)
    assert statuses(result)[index.digest] == (Status.FAILED, "KmsError")
    assert all(statuses(result)[c][0] is Status.SKIPPED for c in index.children)
    assert set(repo.snapshot()) == {index.digest, *index.children}


def test_referenced_child_is_retried_after_the_rest_then_skipped(
    registry: Registry, repo: RepoSeeder
) -> None:
    index = repo.index(["multi"], pushed_at=T0)
    child = index.children[0]
    # A plan that (wrongly) deletes a child of a live index: ECR refuses, twice.
    result = run(registry, repo, [delete(child)])
    assert statuses(result)[child] == (Status.SKIPPED, "ImageReferencedByManifestList")
    assert child in repo.snapshot()


def test_referenced_child_succeeds_on_retry_once_its_index_is_gone(
    registry: Registry, repo: RepoSeeder
) -> None:
    index = repo.index(["multi"], pushed_at=T0)
    child = index.children[0]
    # Same phase: ECR checks references at call start, so the child fails in the first
    # call and is deleted by the retry after the index went.
    result = run(registry, repo, [delete(index.digest, ("multi",)), delete(child)])
    assert statuses(result) == {index.digest: (Status.DELETED, None), child: (Status.DELETED, None)}


@pytest.mark.parametrize(
    "code", ["KmsError", "ImageInaccessible", "UpstreamUnavailable", "InvalidImageTag"]
)
def test_other_failure_codes_are_reported_not_raised(
    sb: Sandbox, registry: Registry, repo: RepoSeeder, code: str
) -> None:
    bad = repo.image(pushed_at=T0)
    good = repo.image(pushed_at=T0)
    sb.store.delete_failures[bad] = code
    result = run(registry, repo, [delete(bad), delete(good)])
    assert statuses(result) == {bad: (Status.FAILED, code), good: (Status.DELETED, None)}
    assert set(repo.snapshot()) == {bad}


def test_image_gone_after_inventory_is_skipped(
    sb: Sandbox, registry: Registry, repo: RepoSeeder
) -> None:
    first = repo.image(pushed_at=T0)
    second = repo.image(pushed_at=T0)
    sb.faults.after_call("DescribeImages", 1, lambda store: repo.delete(first))
    result = run(registry, repo, [delete(first), delete(second)])
    assert statuses(result) == {first: (Status.SKIPPED, None), second: (Status.DELETED, None)}
    assert "changed since inventory" in result.actions[0].reason


def test_tag_moved_or_added_after_inventory_is_not_deleted(
    sb: Sandbox, registry: Registry, repo: RepoSeeder
) -> None:
    moved_from = repo.image(["v1"], pushed_at=T0)
    gains_tag = repo.image(pushed_at=T0)
    newcomer = repo.image(pushed_at=T0)

    def race(store: object) -> None:
        repo.tag("v1", newcomer)  # v1 moves to another image
        repo.tag("hotfix", gains_tag)  # an untagged image gets a tag

    sb.faults.after_call("DescribeImages", 1, race)
    result = run(registry, repo, [delete(moved_from, ("v1",)), delete(gains_tag)])
    assert {a.status for a in result.actions} == {Status.SKIPPED}
    assert repo.snapshot() == {moved_from: (), gains_tag: ("hotfix",), newcomer: ("v1",)}


def test_tag_removal_skipped_when_another_tag_vanished(
    sb: Sandbox, registry: Registry, repo: RepoSeeder
) -> None:
    image = repo.image(["stale", "keep"], pushed_at=T0)
    # Someone removes "keep" after inventory: removing "stale" now would delete the image.
    sb.faults.after_call("DescribeImages", 1, lambda store: repo.untag("keep"))
    result = run(registry, repo, [untag(image, "stale")])
    assert statuses(result) == {image: (Status.SKIPPED, None)}
    assert repo.snapshot() == {image: ("stale",)}


def test_throttling_and_server_errors_are_survived(
    sb: Sandbox, registry: Registry, repo: RepoSeeder
) -> None:
    digests = repo.bulk(120, start=T0, tag_every=0)
    sb.faults.fail_next("BatchDeleteImage", 2, status=503)
    sb.faults.fail_next("DescribeImages", 1, status=500)
    result = run(registry, repo, [delete(d) for d in digests])
    assert {a.status for a in result.actions} == {Status.DELETED}
    assert repo.snapshot() == {}
    assert sb.faults.injected["BatchDeleteImage"] == 2


def test_repository_error_mid_run_leaves_a_true_report(sb: Sandbox, repo: RepoSeeder) -> None:
    # Two attempts: the outage below outlasts any retry budget, so keep the test short.
    registry = Registry(sb.client("ecr", config=Config(retries={"max_attempts": 2})), "us-east-1")
    digests = repo.bulk(150, start=T0, tag_every=0)
    sb.faults.after_call(
        "BatchDeleteImage", 1, lambda store: sb.faults.fail_every("BatchDeleteImage", 1)
    )
    result = run(registry, repo, [delete(d) for d in digests])
    deleted = {a.digest for a in result.actions if a.status is Status.DELETED}
    assert len(deleted) == 100
    assert deleted.isdisjoint(repo.snapshot())
    assert {a.status for a in result.actions if a.digest not in deleted} == {Status.FAILED}
    assert len(repo.snapshot()) == 50
    assert result.failed and result.error is not None
