"""The report (docs/report.md): JSON shape and counts, and table/markdown showing the
same decisions with their reasons."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cleaner.core.model import Action, ActionKind, Kept, RepositoryPlan, RepositoryRef, Status
from cleaner.report.model import RunReport
from cleaner.report.render import to_json, to_markdown, to_table

NOW = datetime(2027, 1, 1, tzinfo=UTC)
A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64


def report(mode: str = "run") -> RunReport:
    done = Status.PLANNED if mode == "plan" else Status.DELETED
    api = RepositoryPlan(
        RepositoryRef("us-east-1", "123456789012", "team-a/api"),
        "services",
        3,
        actions=(
            Action(
                ActionKind.DELETE_IMAGE,
                A,
                ("feature-x-1",),
                "features",
                "pushed 40d ago",
                300,
                status=done,
            ),
            Action(
                ActionKind.REMOVE_TAG,
                B,
                ("old", "older"),
                "features",
                "beyond 2 most recent",
                0,
                status=done,
            ),
            Action(
                ActionKind.DELETE_IMAGE,
                C,
                (),
                "untagged",
                "pushed 5d ago",
                50,
                status=Status.FAILED if mode == "run" else done,
                failure_code="KmsError" if mode == "run" else None,
            ),
        ),
        kept=(Kept(B, ("latest",), "protected tag latest"),),
    )
    broken = RepositoryPlan(
        RepositoryRef("eu-west-1", "123456789012", "team-a/api"),
        "services",
        0,
        error="not touched: AccessDenied",
        failed=True,
    )
    return RunReport(mode, NOW, NOW, NOW, [broken, api], warnings=("limit warning",))


def test_json_follows_the_spec_shape_sorted_by_region_registry_name() -> None:
    data = json.loads(to_json(report()))
    assert set(data) >= {"mode", "now", "started_at", "finished_at", "summary", "repositories"}
    assert data["now"] == "2027-01-01T00:00:00+00:00"
    assert [r["region"] for r in data["repositories"]] == ["eu-west-1", "us-east-1"]
    api = data["repositories"][1]
    assert set(api) == {
        "region",
        "registry_id",
        "repository",
        "policy",
        "images_scanned",
        "error",
        "actions",
        "kept",
    }
    assert set(api["actions"][0]) == {
        "kind",
        "digest",
        "tags",
        "rule",
        "reason",
        "size_bytes",
        "status",
        "failure_code",
    }
    assert api["kept"] == [{"digest": B, "tags": ["latest"], "reason": "protected tag latest"}]
    assert data["repositories"][0]["error"] == "not touched: AccessDenied"
    assert data["summary"] == {
        "repositories": 2,
        "images_scanned": 3,
        "images_deleted": 1,
        "images_archived": 0,
        "tags_removed": 2,
        "bytes_reclaimed": 300,
        "failures": 2,
    }
    assert data["warnings"] == ["limit warning"]


def test_plan_mode_counts_planned_actions() -> None:
    summary = json.loads(to_json(report("plan")))["summary"]
    assert (summary["images_deleted"], summary["tags_removed"], summary["failures"]) == (2, 2, 1)


@pytest.mark.parametrize("render", [to_table, to_markdown])
def test_people_renderings_show_every_decision_and_reason(render: object) -> None:
    assert callable(render)
    text = render(report())
    for needle in (
        "team-a/api",
        "feature-x-1",
        "pushed 40d ago",
        "old, older",
        "beyond 2 most recent",
        "protected tag latest",
        "KmsError",
        "not touched: AccessDenied",
        "limit warning",
        "eu-west-1",
    ):
        assert needle in text, needle
    assert "deleted 1 image and 2 tags" in text


def test_a_failed_target_is_a_failure_not_a_repository() -> None:
    target = RepositoryPlan(
        RepositoryRef("eu-west-1", "default", "*"),
        None,
        0,
        error="cannot list repositories: AccessDenied",
        failed=True,
        whole_target=True,
    )
    run = RunReport("run", NOW, NOW, NOW, [target, *report().repositories])
    summary = run.summary()
    assert (summary["repositories"], summary["failures"]) == (2, 3)
    # Sorted by region, registry, name like any entry.
    names = [(r["region"], r["repository"]) for r in run.to_dict()["repositories"]]
    assert names == [("eu-west-1", "team-a/api"), ("eu-west-1", "*"), ("us-east-1", "team-a/api")]
    table = to_table(run)
    assert "== target eu-west-1/default: FAILED: cannot list repositories: AccessDenied\n" in table
    assert "* (policy None" not in table
    assert "## Target `eu-west-1/default`: FAILED" in to_markdown(run)
