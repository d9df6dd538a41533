"""action: archive and select.storage: archived, end to end against the sandbox over HTTP."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cleaner.aws.clients import Clients
from cleaner.cli import main
from cleaner.config.load import load_config_text
from cleaner.core.model import ActionKind, RepositoryPlan, SkipKind, SkipReason, Status
from cleaner.exitcodes import ExitCode
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import RunResult, run_once
from cleaner.sandbox import RepoSeeder, Sandbox, Store

NOW = datetime(2027, 1, 1, tzinfo=UTC)
OLD = NOW - timedelta(days=30)
FRESH = NOW - timedelta(hours=1)

ARCHIVE_OLD = """
version: 1
targets: [{region: us-east-1}]
policies:
  - name: quarantine
    protect: {keep_at_least: 0}
    rules:
      - name: stale
        expire: {pushed_before: 7d}
        action: archive
limits: {max_deletions: 100000, concurrency: 4}
"""
PURGE_ARCHIVED = """
version: 1
targets: [{region: us-east-1}]
policies:
  - name: purge
    protect: {keep_at_least: 0}
    rules:
      - name: purge
        select: {storage: archived}
        expire: {archived_before: 90d}
"""


def run(policy: str, *, dry_run: bool = False, extra: str = "") -> RunResult:
    return run_once(load_config_text(policy + extra), Clients(), NOW, RunOptions(dry_run=dry_run))


def only(result: RunResult) -> RepositoryPlan:
    (plan,) = result.report.repositories
    return plan


def outcome(plan: RepositoryPlan) -> dict[str, tuple[ActionKind, Status]]:
    return {a.digest: (a.kind, a.status) for a in plan.actions}


def status_of(sb: Sandbox, repo: RepoSeeder, digest: str) -> str:
    return repo.repo.images[digest].status


def after_inventory(sb: Sandbox, change: Callable[[Store], None]) -> None:
    """Change the registry once planning has listed it, before the first re-describe."""
    sb.faults.after_call("DescribeImages", 1, change)


def test_run_archives_exactly_what_the_plan_listed(sb: Sandbox, repo: RepoSeeder) -> None:
    old = repo.bulk(250, start=OLD, step=timedelta(seconds=1), tag_every=2)
    fresh = repo.image(["fresh"], pushed_at=FRESH)
    sb.faults.add_latency("UpdateImageStorageClass", 0.005)  # so that calls overlap
    planned = only(run(ARCHIVE_OLD, dry_run=True))
    assert set(outcome(planned)) == set(old)
    assert {k for k, _ in outcome(planned).values()} == {ActionKind.ARCHIVE_IMAGE}
    assert sb.faults.calls["UpdateImageStorageClass"] == 0  # dry-run replaces only the call
    sb.faults.calls.clear()

    result = run(ARCHIVE_OLD)
    assert result.exit_code == ExitCode.OK
    assert outcome(only(result)) == {d: (ActionKind.ARCHIVE_IMAGE, Status.ARCHIVED) for d in old}
    assert {status_of(sb, repo, d) for d in old} == {"ARCHIVED"}
    assert status_of(sb, repo, fresh) == "ACTIVE"
    assert len(repo.snapshot()) == 251  # nothing deleted, tags kept
    summary = result.report.summary()
    assert (summary["images_archived"], summary["images_deleted"]) == (250, 0)
    assert dict(sb.faults.calls) == {
        "DescribeRepositories": 1,
        "DescribeImages": 1 + math.ceil(250 / 100),  # the listing, one re-describe a group
        "UpdateImageStorageClass": 250,
    }
    assert 1 < sb.faults.peak["UpdateImageStorageClass"] <= 4  # limits.concurrency


def test_an_index_is_archived_before_its_children(sb: Sandbox, repo: RepoSeeder) -> None:
    index = repo.index(["multi"], pushed_at=OLD, attestations=True)
    result = run(ARCHIVE_OLD)
    everything = {index.digest, *index.children, *index.attestations}
    assert outcome(only(result)) == {
        d: (ActionKind.ARCHIVE_IMAGE, Status.ARCHIVED) for d in everything
    }
    assert {status_of(sb, repo, d) for d in everything} == {"ARCHIVED"}


def test_a_tag_level_removal_stays_a_tag_removal(sb: Sandbox, repo: RepoSeeder) -> None:
    shared = repo.image(["feature-1", "v1"], pushed_at=OLD)
    policy = ARCHIVE_OLD.replace(
        "expire: {pushed_before: 7d}",
        "select: {tags: [feature-*]}\n        expire: {pushed_before: 7d}",
    )
    result = run(policy)
    assert outcome(only(result)) == {shared: (ActionKind.REMOVE_TAG, Status.DELETED)}
    assert repo.snapshot() == {shared: ("v1",)}
    assert status_of(sb, repo, shared) == "ACTIVE"


@pytest.mark.parametrize(
    ("change", "note"),
    [
        pytest.param(
            lambda repo, d: repo.set_pulled(d, NOW - timedelta(minutes=1)),
            "changed since inventory: pulled at 2026-12-31T23:59:00+00:00",
            id="pulled",
        ),
        pytest.param(
            lambda repo, d: repo.tag("hotfix", d),
            "changed since inventory: tags now hotfix, v1",
            id="re-tagged",
        ),
        pytest.param(
            lambda repo, d: repo.archive(d), "changed since inventory: now ARCHIVED", id="archived"
        ),
    ],
)
def test_an_image_that_changed_between_plan_and_archive_is_skipped(
    sb: Sandbox, repo: RepoSeeder, change: Callable[[RepoSeeder, str], None], note: str
) -> None:
    touched = repo.image(["v1"], pushed_at=OLD)
    other = repo.image(["v2"], pushed_at=OLD)
    after_inventory(sb, lambda _: change(repo, touched))
    result = run(ARCHIVE_OLD)
    actions = {a.digest: a for a in only(result).actions}
    assert actions[touched].status is Status.SKIPPED
    assert actions[touched].reason.endswith(note)
    assert actions[other].status is Status.ARCHIVED
    assert sb.faults.calls["UpdateImageStorageClass"] == 1


def test_a_pulled_child_keeps_its_whole_index_active(sb: Sandbox, repo: RepoSeeder) -> None:
    index = repo.index(["multi"], pushed_at=OLD)
    pulled = index.children[1]
    after_inventory(sb, lambda _: repo.set_pulled(pulled, NOW - timedelta(minutes=1)))
    actions = {a.digest: a for a in only(run(ARCHIVE_OLD)).actions}
    assert actions[index.digest].status is Status.SKIPPED
    assert f"{pulled}, which follows it, pulled at" in actions[index.digest].reason
    assert {actions[c].status for c in index.children} == {Status.SKIPPED}
    assert actions[index.children[0]].reason.endswith(f"parent {index.digest} was not archived")
    assert actions[index.children[0]].skip == SkipReason(SkipKind.PARENT_NOT_ARCHIVED, index.digest)
    assert sb.faults.calls["UpdateImageStorageClass"] == 0
    assert {status_of(sb, repo, d) for d in (index.digest, *index.children)} == {"ACTIVE"}


def test_per_image_errors_are_recorded_with_their_code(sb: Sandbox, repo: RepoSeeder) -> None:
    index = repo.index(["multi"], pushed_at=OLD, platforms=["linux/amd64"])
    (child,) = index.children

    def push_another_index(_: Store) -> None:  # a new, live index now lists the child
        repo.index(["new"], pushed_at=NOW, reuse_children=[child])

    after_inventory(sb, push_another_index)
    result = run(ARCHIVE_OLD)
    actions = {a.digest: a for a in only(result).actions}
    assert actions[index.digest].status is Status.ARCHIVED
    assert (actions[child].status, actions[child].failure_code) == (
        Status.FAILED,
        "InvalidParameterException",
    )
    assert "is referenced by the image index" in actions[child].reason
    assert result.exit_code == ExitCode.FAILURES
    assert status_of(sb, repo, child) == "ACTIVE"


@pytest.mark.slow  # waits out botocore's real back-off after each throttle: 1-2 s
def test_throttling_is_retried(sb: Sandbox, repo: RepoSeeder) -> None:
    old = repo.bulk(2, start=OLD, tag_every=0)
    sb.faults.throttle("UpdateImageStorageClass", rate=10, burst=1)  # the two calls go at once
    result = run(ARCHIVE_OLD)
    assert {a.status for a in only(result).actions} == {Status.ARCHIVED}
    assert sb.faults.injected["UpdateImageStorageClass"] > 0
    assert {status_of(sb, repo, d) for d in old} == {"ARCHIVED"}


def test_max_deletions_counts_archives(sb: Sandbox, repo: RepoSeeder) -> None:
    repo.bulk(5, start=OLD, tag_every=0)
    result = run(ARCHIVE_OLD.replace("max_deletions: 100000", "max_deletions: 4"))
    assert result.exit_code == ExitCode.LIMIT
    assert sb.faults.calls["UpdateImageStorageClass"] == 0
    assert "archive 5 images" in result.report.warnings[0]


def test_archived_images_are_listed_only_when_a_rule_selects_them(
    sb: Sandbox, repo: RepoSeeder
) -> None:
    active = repo.bulk(1500, start=FRESH, step=timedelta(0), tag_every=0)
    for digest in repo.bulk(600, start=OLD, tag_every=0):
        repo.archive(digest, NOW - timedelta(days=100))
    run(ARCHIVE_OLD, dry_run=True)
    assert sb.faults.calls["DescribeImages"] == 2  # 1500 active images, pages of 1000
    sb.faults.calls.clear()
    result = run(PURGE_ARCHIVED)
    assert sb.faults.calls["DescribeImages"] == 3 + 6  # 2100 images, then 6 re-describes
    assert only(result).images_scanned == 2100
    assert result.report.summary()["images_deleted"] == 600
    assert set(repo.snapshot()) == set(active)


def test_an_archived_index_goes_first_then_its_archived_children(
    sb: Sandbox, repo: RepoSeeder
) -> None:
    index = repo.index(["multi"], pushed_at=OLD - timedelta(days=200))
    for digest in (index.digest, *index.children):
        repo.archive(digest, NOW - timedelta(days=100))
    policy = PURGE_ARCHIVED.replace(
        "expire: {archived_before: 90d}",
        "expire: {archived_before: 90d}\n      - name: leftovers\n"
        "        select: {storage: archived, tag_status: untagged}\n"
        "        expire: {archived_before: 90d}",
    )
    result = run(policy)
    assert {a.status for a in only(result).actions} == {Status.DELETED}
    assert repo.snapshot() == {}
    assert sb.faults.calls["BatchGetImage"] == 0  # an archived manifest is never asked for
    assert sb.faults.calls["BatchDeleteImage"] == 2  # the index, then its children


def test_a_restore_between_plan_and_delete_keeps_the_image(sb: Sandbox, repo: RepoSeeder) -> None:
    digest = repo.image(["v1"], pushed_at=OLD)
    repo.archive(digest, NOW - timedelta(days=100))
    after_inventory(sb, lambda store: store.restore(repo.repo, repo.repo.images[digest]))
    (action,) = only(run(PURGE_ARCHIVED)).actions
    assert action.status is Status.SKIPPED
    assert action.reason.endswith("changed since inventory: now ACTIVATING")
    assert digest in repo.snapshot()


def test_an_archived_image_in_use_is_a_warning(
    sb: Sandbox, repo: RepoSeeder, tmp_path: Path
) -> None:
    digest = repo.image(["v1"], pushed_at=OLD)
    repo.archive(digest, NOW - timedelta(days=100))
    pinned = tmp_path / "pinned.txt"
    pinned.write_text(f"123456789012.dkr.ecr.us-east-1.amazonaws.com/app@{digest}\n")
    policy = PURGE_ARCHIVED.replace(
        "protect: {keep_at_least: 0}",
        f"protect: {{keep_at_least: 0, in_use: {{sources: [{{file: {{path: '{pinned}'}}}}]}}}}",
    )
    result = run(policy)
    assert only(result).actions == ()
    assert any(
        f"archived image {digest} (v1) is in use by file" in w for w in result.report.warnings
    )
    assert "in use by file" in only(result).kept[0].reason


def test_log_events_of_an_archiving_run(
    sb: Sandbox, repo: RepoSeeder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = [repo.image([f"v{n}"], pushed_at=OLD) for n in range(3)]
    pinned_digest = repo.image(["pinned"], pushed_at=OLD)
    repo.archive(pinned_digest, NOW - timedelta(days=100))
    pinned = tmp_path / "pinned.txt"
    pinned.write_text("app:pinned\n")
    policy = tmp_path / "policy.yaml"
    in_use = f"in_use: {{sources: [{{file: {{path: '{pinned}'}}}}]}}"
    rules = "\n      - name: purge\n        select: {storage: archived}\n" + (
        "        expire: {archived_before: 90d}\n"
    )
    policy.write_text(
        ARCHIVE_OLD.replace("keep_at_least: 0}", f"keep_at_least: 0, {in_use}}}").replace(
            "        action: archive\n", "        action: archive" + rules
        )
    )
    args = ["run", "--config", str(policy), "--now", NOW.isoformat(), "--log-format", "json"]
    assert main(args) == 0
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    archived = [e for e in events if e["event"] == "image_archived"]
    assert sorted(e["digest"] for e in archived) == sorted(old)
    assert {(e["status"], e["kind"], e["rule"]) for e in archived} == {
        ("archived", "archive_image", "stale")
    }
    (warning,) = [e for e in events if e["event"] == "archived_image_in_use"]
    assert warning["repository"] == "app" and pinned_digest in warning["message"]
