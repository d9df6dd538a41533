"""Archive actions in the report: counted apart from deletions, reclaiming no bytes."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from cleaner.core.model import Action, ActionKind, RepositoryPlan, RepositoryRef, Status
from cleaner.report.decisions import decisions
from cleaner.report.figures import actions_per_rule
from cleaner.report.html import to_html
from cleaner.report.model import RunReport
from cleaner.report.render import summary_line, to_json, to_table

NOW = datetime(2027, 1, 1, tzinfo=UTC)
A, B, C = ("sha256:" + c * 64 for c in "abc")


def report(mode: str, archive_status: Status) -> RunReport:
    def action(kind: ActionKind, digest: str, status: Status, size: int) -> Action:
        return Action(kind, digest, ("v1",), "stale", "pushed 40d ago", size, status=status)

    deleted = Status.PLANNED if mode == "plan" else Status.DELETED
    plan = RepositoryPlan(
        RepositoryRef("us-east-1", "123456789012", "team-a/api"),
        "services",
        3,
        actions=(
            action(ActionKind.ARCHIVE_IMAGE, A, archive_status, 1000),
            action(ActionKind.ARCHIVE_IMAGE, B, archive_status, 1000),
            action(ActionKind.DELETE_IMAGE, C, deleted, 300),
        ),
    )
    return RunReport(mode, NOW, NOW, NOW, [plan])


@pytest.mark.parametrize(
    ("mode", "status", "archived", "line"),
    [
        ("plan", Status.PLANNED, 2, "would delete 1 image and 0 tags (300 B), would archive 2"),
        ("run", Status.ARCHIVED, 2, "deleted 1 image and 0 tags (300 B), archived 2 images"),
        ("run", Status.SKIPPED, 0, "deleted 1 image and 0 tags (300 B); 0 failures"),
    ],
)
def test_archives_are_counted_apart_and_reclaim_nothing(
    mode: str, status: Status, archived: int, line: str
) -> None:
    r = report(mode, status)
    summary = json.loads(to_json(r))["summary"]
    assert summary["images_archived"] == archived
    assert (summary["images_deleted"], summary["bytes_reclaimed"]) == (1, 300)
    assert line in summary_line(r)


def test_json_and_table_name_the_archive_action() -> None:
    r = report("run", Status.ARCHIVED)
    actions = json.loads(to_json(r))["repositories"][0]["actions"]
    assert [(a["kind"], a["status"]) for a in actions[:2]] == [("archive_image", "archived")] * 2
    table = to_table(r)
    assert "archive  sha256:aaaaaaaaaaaa  v1    stale  archived" in table


def test_the_html_report_labels_archives_and_charts_them_per_rule() -> None:
    r = report("run", Status.ARCHIVED)
    page = to_html(r)
    data = decisions(r)
    labels = [data["strings"][row[0]] for row in data["rows"]]
    sizes = [row[5] for row in data["rows"]]
    assert (labels, sizes) == (["archive", "archive", "delete"], [1000, 1000, 300])
    assert actions_per_rule(r) == [("stale", 1, 0, 2)]
    chart = page[page.index('id="rules-chart"') :]
    chart = chart[: chart.index("</svg>")]
    assert 'data-series="archives" data-value="2"' in chart
    assert 'data-series="deletions" data-value="1"' in chart
    assert "1 deletions, 0 tag removals, 2 archives" in chart
    assert ">images archived<" in page


def test_the_html_rules_chart_without_archives_keeps_two_series() -> None:
    r = report("run", Status.ARCHIVED)
    plan = r.repositories[0]
    only_deletes = replace(r, repositories=[replace(plan, actions=plan.actions[2:])])
    page = to_html(only_deletes)
    chart = page[page.index('id="rules-chart"') :]
    chart = chart[: chart.index("</svg>")]
    assert "archives" not in chart and ">images archived<" not in page
