"""Properties of archiving runs over random registries, against the sandbox over HTTP:
a run archives (and untags) exactly what its plan listed and deletes nothing, a second
run finds nothing more, and `restore --report` brings back every image the run archived."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_run_properties import NOW, Spec, registries, seed

from cleaner.aws.clients import Clients
from cleaner.config.load import load_config_text
from cleaner.core.model import ActionKind, Status
from cleaner.report.render import to_json
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import run_once
from cleaner.run.restore import from_report, restore
from cleaner.sandbox import Sandbox

pytestmark = pytest.mark.slow  # a property test over the sandbox: ~1-2 s

POLICY = """
version: 1
targets: [{region: us-east-1}]
policies:
  - name: p
    protect: {tags: [latest], keep_at_least: KEEP}
    rules:
      - name: features
        select: {tag_status: tagged, tags: ["feature-*"]}
        keep: {most_recent: 1}
        action: archive
      - name: old
        select: {tag_status: any}
        expire: {pushed_before: 20d}
        action: ACTION
      - name: purge
        select: {storage: archived}
        expire: {archived_before: 90d}
"""


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    spec=registries(),
    keep=st.sampled_from([0, 1, 3]),
    action=st.sampled_from(["archive", "delete"]),
)
def test_a_run_archives_exactly_its_plan_and_restore_undoes_it(
    sb: Sandbox, tmp_path_factory: pytest.TempPathFactory, spec: Spec, keep: int, action: str
) -> None:
    sb.reset()
    seed(sb, spec)
    config = load_config_text(POLICY.replace("KEEP", str(keep)).replace("ACTION", action))
    repo = sb.store.repository("123456789012", "us-east-1", "app")
    assert repo is not None
    before = {d: set(i.tags) for d, i in repo.images.items()}

    planned = run_once(config, Clients(), NOW, RunOptions(dry_run=True)).report.repositories[0]
    assert sb.faults.calls["UpdateImageStorageClass"] == 0
    ran = run_once(config, Clients(), NOW, RunOptions(dry_run=False))
    actions = ran.report.repositories[0].actions
    assert [(a.kind, a.digest, a.tags) for a in actions] == [
        (a.kind, a.digest, a.tags) for a in planned.actions
    ]
    done = {ActionKind.ARCHIVE_IMAGE: Status.ARCHIVED}
    assert all(a.status is done.get(a.kind, Status.DELETED) for a in actions)
    archived = {a.digest for a in actions if a.kind is ActionKind.ARCHIVE_IMAGE}
    expected = {d: set(t) for d, t in before.items()}
    for a in actions:
        if a.kind is ActionKind.DELETE_IMAGE:
            del expected[a.digest]
        elif a.kind is ActionKind.REMOVE_TAG:
            expected[a.digest] -= set(a.tags)
    assert {d: set(i.tags) for d, i in repo.images.items()} == expected
    assert {d for d, i in repo.images.items() if i.status == "ARCHIVED"} == archived
    # A live index never lists an archived image.
    for image in repo.images.values():
        if image.status == "ACTIVE":
            assert not archived & set(image.children)

    again = run_once(config, Clients(), NOW, RunOptions(dry_run=False)).report.repositories[0]
    assert again.actions == ()

    report = tmp_path_factory.mktemp("report") / "report.json"
    report.write_text(to_json(ran.report))
    restored = restore(from_report(config, str(report)), Clients(), config)
    assert {r.digest: r.result for r in restored} == dict.fromkeys(archived, "restored")
    assert {d for d, i in repo.images.items() if i.status != "ACTIVE"} == {
        d for d in archived if sb.store.restore_delay
    }
