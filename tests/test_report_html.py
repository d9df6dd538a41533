"""The HTML report, parsed: self-contained (nothing to fetch, a CSP that allows only
its own style and script), totals and savings, the charts' data, every decision in
the table's data, and every text escaped."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from report_sample import (
    HOSTILE_REASON,
    HOSTILE_REPOSITORY,
    HOSTILE_TAG,
    NOW,
    repository_names,
    sample_report,
)

from cleaner.core.model import ActionKind, Status
from cleaner.report.decisions import HEADINGS, age_days
from cleaner.report.figures import AGE_BUCKETS, age_bucket
from cleaner.report.html import savings_of, to_html
from cleaner.report.model import RunReport, monthly_savings_usd
from cleaner.report.render import RENDERERS


class Parsed(HTMLParser):
    """Every element with its attributes, the text of each script, all visible text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._open: str | None = None
        self._attrs: dict[str, str] = {}
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.elements.append((tag, values))
        if tag in ("script", "style"):
            self._open, self._attrs = tag, values

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag == self._open:
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open == "script":
            self.scripts.append((self._attrs, data))
        elif self._open == "style":
            self.styles.append(data)
        else:
            self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            a
            for t, a in self.elements
            if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def in_chart(self, chart: str) -> list[dict[str, str]]:
        """The bars of one chart: the rects after its <svg id> and before the next svg."""
        inside, bars = False, []
        for tag, attrs in self.elements:
            if tag == "svg":
                inside = attrs.get("id") == chart
            elif inside and tag == "rect" and "bar" in attrs.get("class", "").split():
                bars.append(attrs)
        return bars

    def data(self) -> dict[str, Any]:
        (text,) = [t for a, t in self.scripts if a.get("id") == "report-data"]
        return dict(json.loads(text))


@pytest.fixture(scope="module")
def plan_page() -> tuple[RunReport, Parsed, str]:
    report = sample_report("plan")
    text = to_html(report)
    return report, Parsed(text), text


def test_html_is_a_renderer_and_plan_format_choice() -> None:
    from cleaner.cli import build_parser

    assert RENDERERS["html"](sample_report()).startswith("<!doctype html>")
    args = build_parser().parse_args(["plan", "--format", "html"])
    assert args.format == "html"


def test_nothing_is_fetched_and_only_its_own_style_and_script_may_run(
    plan_page: tuple[RunReport, Parsed, str],
) -> None:
    _, page, text = plan_page
    for tag, attrs in page.elements:
        assert "src" not in attrs, (tag, attrs)
        href = attrs.get("href", "")
        assert tag != "link" or attrs == {"rel": "icon", "href": "data:,"}, attrs
        assert not re.match(r"[a-z]+:", href) or href in ("#", "data:,"), href
    (style,) = page.styles
    assert "url(" not in style and "@import" not in style
    code = [t for a, t in page.scripts if "type" not in a]
    assert len(code) == 1  # the table's script; the data is type=application/json
    (meta,) = page.find("meta", http_equiv="Content-Security-Policy")
    policy = meta["content"]

    def sha(text: str) -> str:
        return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()

    assert "default-src 'none'" in policy
    assert f"style-src 'sha256-{sha(style)}'" in policy
    assert f"script-src 'sha256-{sha(code[0])}'" in policy
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text


def test_hostile_texts_are_escaped_everywhere(plan_page: tuple[RunReport, Parsed, str]) -> None:
    _, page, text = plan_page
    for hostile in (HOSTILE_TAG, HOSTILE_REASON, HOSTILE_REPOSITORY, "<em>note</em>"):
        assert hostile not in text
    # Two script elements and no more: no text became one.
    assert len(page.find("script")) == 2
    assert not page.find("img") and not page.find("em") and not page.find("b")
    # The texts themselves survive, as text: in the page and in the table's data.
    visible = "".join(page.text)
    assert "a warning & <em>note</em>" in visible
    assert HOSTILE_REPOSITORY in visible  # the storage chart's label
    data = page.data()
    assert {HOSTILE_TAG, HOSTILE_REASON, HOSTILE_REPOSITORY} <= set(data["strings"])


def test_totals_and_savings_are_shown_as_an_upper_bound(
    plan_page: tuple[RunReport, Parsed, str],
) -> None:
    report, page, _ = plan_page
    s = report.summary()
    visible = " ".join(" ".join(page.text).split())
    assert f"{s['images_deleted']:,} images to delete" in visible
    assert f"{s['tags_removed']:,} tags to remove" in visible
    savings = s["estimated_monthly_savings_usd"]
    assert f"${savings:,.2f} a month saved, at most" in visible
    assert "upper bound" in visible and "at $0.10 per GB-month" in visible
    assert "not freed" in visible
    assert f"{s['failures']} failures" in visible


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ({"bytes_reclaimed": 10**9, "estimated_monthly_savings_usd": 0.35}, 0.35),
        ({"bytes_reclaimed": 10**9}, 0.0),  # a report from before the estimate existed
    ],
)
def test_savings_come_from_the_summary(summary: dict[str, Any], expected: float) -> None:
    assert savings_of(summary) == pytest.approx(expected)


def test_the_page_shows_the_reports_own_price_and_estimate() -> None:
    report = replace(sample_report("plan"), storage_price_per_gb_month=0.25)
    summary = report.summary()
    expected = monthly_savings_usd(summary["bytes_reclaimed"], 0.25)
    assert summary["estimated_monthly_savings_usd"] == expected > 0
    visible = " ".join(" ".join(Parsed(to_html(report)).text).split())
    assert f"${expected:,.2f} a month saved" in visible
    assert "at $0.25 per GB-month" in visible


def test_storage_chart_has_the_20_largest_repositories_largest_first(
    plan_page: tuple[RunReport, Parsed, str],
) -> None:
    report, page, _ = plan_page
    per_repo: Counter[str] = Counter()
    for plan in report.repositories:
        for a in plan.actions:
            if a.kind is ActionKind.DELETE_IMAGE:
                per_repo[plan.repository.name] += a.size_bytes
    assert sum(per_repo.values()) == report.summary()["bytes_reclaimed"]
    with_bytes = sorted((v, k) for k, v in per_repo.items() if v)
    assert len(with_bytes) > 20
    bars = page.in_chart("bytes-chart")
    assert [float(b["data-value"]) for b in bars] == [v for v, _ in reversed(with_bytes)][:20]
    labels = [a["data-label"] for t, a in page.elements if t == "g" and "data-label" in a]
    assert labels[0] == with_bytes[-1][1]
    visible = "".join(page.text)
    assert f"The 20 largest of {len(with_bytes)} repositories" in visible


def test_age_chart_counts_every_deletion_and_kept_image_by_age(
    plan_page: tuple[RunReport, Parsed, str],
) -> None:
    report, page, _ = plan_page
    bars = page.in_chart("age-chart")
    assert len(bars) == 2 * len(AGE_BUCKETS)
    by_series: dict[str, list[int]] = {}
    for bar in bars:
        by_series.setdefault(bar["data-series"], []).append(int(bar["data-value"]))
    assert sum(by_series["to delete"]) == report.summary()["images_deleted"]
    assert sum(by_series["kept"]) == sum(len(p.kept) for p in report.repositories)
    # The sample's untagged leftovers are 0.5, 20.5 and 40.5 days old, one each per
    # deletable repository: the youngest is kept (pushed_before 1d), the others go.
    assert by_series["kept"][0] >= 24  # latest (0.2 d) and the youngest leftover


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        *[(0, 0), (0.99, 0), (1, 1), (6.9, 1), (7, 2), (29.9, 2), (30, 3), (90, 3), (91, 4)],
        *[(181, 4), (182, 5), (364, 5), (365, 6), (5000, 6), (-2, 0)],
    ],
)
def test_age_buckets(days: float, bucket: int) -> None:
    assert age_bucket(NOW, NOW - timedelta(days=days)) == bucket


@pytest.mark.parametrize(
    ("age", "expected"), [(timedelta(days=169, hours=23), 169.9), (timedelta(hours=-5), 0.0)]
)
def test_table_ages_round_down_like_the_reasons(age: timedelta, expected: float) -> None:
    assert age_days(NOW, NOW - age) == expected


def test_rules_chart_has_one_row_per_rule_split_by_kind(
    plan_page: tuple[RunReport, Parsed, str],
) -> None:
    report, page, _ = plan_page
    expected: Counter[tuple[str, str]] = Counter()
    for plan in report.repositories:
        for a in plan.actions:
            expected[
                "deletions" if a.kind is ActionKind.DELETE_IMAGE else "tag removals", a.rule
            ] += 1
    drawn = Counter()
    for bar in page.in_chart("rules-chart"):
        drawn[bar["data-series"]] += int(bar["data-value"])
    assert drawn["deletions"] == sum(v for (k, _), v in expected.items() if k == "deletions")
    assert drawn["tag removals"] == sum(v for (k, _), v in expected.items() if k != "deletions")
    assert len(page.in_chart("rules-chart")) == len(expected)


def test_the_table_data_holds_every_action_and_kept_image(
    plan_page: tuple[RunReport, Parsed, str],
) -> None:
    report, page, _ = plan_page
    data = page.data()
    strings = data["strings"]
    rows = [
        [strings[c] if i in (0, 1, 3, 4, 7, 8) else c for i, c in enumerate(r)]
        for r in data["rows"]
    ]
    assert len(HEADINGS) == len(rows[0]) == 9
    actions = [(p, a) for p in report.repositories for a in p.actions]
    kept = [(p, k) for p in report.repositories for k in p.kept]
    assert len(rows) == len(actions) + len(kept)
    plan, action = next((p, a) for p, a in actions if a.kind is ActionKind.REMOVE_TAG)
    (row,) = [r for r in rows if r[2] == action.digest and r[0] == "untag"]
    assert row[:5] == [
        "untag",
        plan.repository.name,
        action.digest,
        ", ".join(action.tags),
        action.rule,
    ]
    assert row[5] is None and row[7] == "planned" and row[8] == action.reason
    plan, k = kept[0]
    row = next(r for r in rows if r[2] == k.digest and r[0] == "keep")
    assert row[1] == plan.repository.name and row[8] == k.reason and row[7] == "kept"
    assert row[5] == k.size_bytes and row[6] == age_days(NOW, k.pushed_at)
    assert "<untagged>" in strings  # untagged images say so


def test_a_run_report_says_deleted_and_shows_failure_codes() -> None:
    report = sample_report("run")
    page = Parsed(to_html(report, outcome="failures"))
    visible = " ".join(" ".join(page.text).split())
    assert "images deleted" in visible and "reclaimed" in visible
    assert "outcome failures" in visible
    assert "Repositories not fully processed (1)" in visible and "AccessDenied" in visible
    strings = page.data()["strings"]
    assert "failed (ImageReferencedByManifestList)" in strings
    assert {b["data-series"] for b in page.in_chart("age-chart")} == {"deleted", "kept"}
    bars = page.in_chart("age-chart")
    deleted = sum(int(b["data-value"]) for b in bars if b["data-series"] == "deleted")
    assert deleted == report.summary()["images_deleted"]  # the failed one is not counted


def test_an_empty_report_still_draws_its_frame() -> None:
    report = RunReport("plan", NOW, NOW, NOW, [])
    page = Parsed(to_html(report))
    assert page.in_chart("bytes-chart") == [] and page.in_chart("rules-chart") == []
    assert "no repository has images to delete" in "".join(page.text)
    assert page.data() == {"strings": [], "rows": []}


def test_several_registries_name_repositories_in_full() -> None:
    report = sample_report("plan")
    plans = list(report.repositories)
    moved = dataclasses.replace(
        plans[1], repository=dataclasses.replace(plans[1].repository, region="eu-west-1")
    )
    report = dataclasses.replace(report, repositories=[plans[0], moved])
    strings = Parsed(to_html(report)).data()["strings"]
    assert f"123456789012/eu-west-1/{repository_names()[1]}" in strings
    assert f"123456789012/us-east-1/{repository_names()[0]}" in strings


def test_planned_actions_carry_push_times_but_the_json_does_not() -> None:
    report = sample_report("plan")
    actions = [a for p in report.repositories for a in p.actions]
    assert all(a.pushed_at is not None for a in actions)
    assert all(
        k.pushed_at is not None and k.size_bytes for p in report.repositories for k in p.kept
    )
    document = report.to_dict()
    entry = document["repositories"][1]
    assert "pushed_at" not in entry["actions"][0] and set(entry["kept"][0]) == {
        "digest",
        "tags",
        "reason",
    }
    assert all(a.status is Status.PLANNED for a in actions)
