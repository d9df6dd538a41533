"""A stop request (serve's SIGTERM) reaches the executor between batches only."""

from __future__ import annotations

from datetime import UTC, datetime

from cleaner.aws.ecr import ManifestCache, Registry
from cleaner.core.model import Action, ActionKind, RepositoryPlan, SkipKind, SkipReason, Status
from cleaner.run.executor import execute
from cleaner.run.stopping import StopRequest
from cleaner.sandbox import RepoSeeder, Sandbox

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOT_ATTEMPTED = "not attempted: stopped by SIGTERM"


class StopAfterDeletes(StopRequest):
    """A SIGTERM that arrives once the sandbox has seen `n` BatchDeleteImage calls."""

    def __init__(self, sb: Sandbox, n: int) -> None:
        super().__init__()
        self.sb, self.n = sb, n
        self.cause = "SIGTERM"

    def requested(self) -> bool:
        return self.sb.faults.calls["BatchDeleteImage"] >= self.n


def run(
    registry: Registry, actions: list[Action], stop_after_deletes: int, sb: Sandbox
) -> RepositoryPlan:
    inventory = registry.inventory(registry.repositories()[0], ManifestCache())
    expected = {a.digest: inventory.images[a.digest].tags for a in actions}
    plan = RepositoryPlan(inventory.repository, "p", len(inventory.images), tuple(actions))
    return execute(
        plan,
        registry,
        expected,
        dry_run=False,
        stop=StopAfterDeletes(sb, stop_after_deletes),
    )


def delete(digest: str, phase: int = 0, parents: tuple[str, ...] = ()) -> Action:
    return Action(ActionKind.DELETE_IMAGE, digest, (), "r", "old", 1, phase, parents=parents)


def test_a_stop_before_the_first_batch_attempts_nothing(
    sb: Sandbox, registry: Registry, repo: RepoSeeder
) -> None:
    digests = repo.bulk(5, start=T0, tag_every=0)
    result = run(registry, [delete(d) for d in digests], 0, sb)
    assert {a.status for a in result.actions} == {Status.SKIPPED}
    assert all(a.reason == f"old; {NOT_ATTEMPTED}" for a in result.actions)
    assert {a.skip for a in result.actions} == {SkipReason(SkipKind.STOPPED, "SIGTERM")}
    assert sb.faults.calls["BatchDeleteImage"] == 0
    assert set(repo.snapshot()) == set(digests)


def test_a_stop_after_one_batch_skips_the_rest_including_children(
    sb: Sandbox, registry: Registry, repo: RepoSeeder
) -> None:
    digests = repo.bulk(150, start=T0, tag_every=0)
    index = repo.index(["x"], pushed_at=T0)
    actions = [delete(d) for d in digests] + [delete(index.digest)]
    actions += [delete(c, phase=1, parents=(index.digest,)) for c in index.children]
    result = run(registry, actions, 1, sb)
    status = {a.digest: a.status for a in result.actions}
    deleted = {d for d, s in status.items() if s is Status.DELETED}
    skipped = {d for d, s in status.items() if s is Status.SKIPPED}
    assert len(deleted) == 100 and len(skipped) == len(actions) - 100
    for child in index.children:
        assert status[child] is Status.SKIPPED
    assert all(a.reason.endswith(NOT_ATTEMPTED) for a in result.actions if a.digest in skipped)
    assert all(a.skip and a.skip.kind.not_attempted for a in result.actions if a.digest in skipped)
    assert set(repo.snapshot()) == skipped
    assert sb.faults.calls["BatchDeleteImage"] == 1


def test_a_tag_removal_split_over_batches_is_finished_once_started(
    sb: Sandbox, registry: Registry, repo: RepoSeeder
) -> None:
    tags = tuple(f"t{n:03}" for n in range(150))
    digest = repo.image([*tags, "keep"], pushed_at=T0)
    action = Action(ActionKind.REMOVE_TAG, digest, tags, "r", "old", 0)
    result = run(registry, [action], 1, sb)
    (done,) = result.actions
    assert done.status is Status.DELETED
    assert repo.snapshot() == {digest: ("keep",)}
    assert sb.faults.calls["BatchDeleteImage"] == 2
