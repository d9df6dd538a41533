"""The HTML report opened from disk (file://) in headless Chromium: the charts are drawn
with the right number of bars, the table filters and sorts, markup in the data stays
text, nothing is fetched and nothing is logged as an error; and 100,000 rows load."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from report_sample import HOSTILE_REASON, HOSTILE_TAG, large_report, sample_report

from cleaner.report.decisions import decisions
from cleaner.report.figures import AGE_BUCKETS, actions_per_rule, reclaimed_per_repository
from cleaner.report.html import to_html
from cleaner.report.model import RunReport

from .conftest import Watched

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PAGE = 250  # rows the table shows at first, and adds per "Show more"


def open_report(watched: Watched, report: RunReport | None, path: Path) -> Any:
    """Write `report` to `path` (None: it is there already) and open it."""
    if report is not None:
        path.write_text(to_html(report), encoding="utf-8")
    page = watched.page
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready=true]")
    return page


def table_rows(report: RunReport) -> list[list[Any]]:
    """The table's rows as the page has them, strings resolved (cleaner.report.decisions)."""
    data = decisions(report)
    strings = data["strings"]
    interned = (0, 1, 3, 4, 7, 8)
    return [[strings[c] if i in interned else c for i, c in enumerate(r)] for r in data["rows"]]


def matching(rows: list[list[Any]], query: str) -> list[list[Any]]:
    """What the filter should keep: rows where every word is in one of the text columns."""
    terms = query.lower().split()
    texts = [" ".join(str(r[c]) for c in (0, 1, 2, 3, 4, 7, 8)).lower() for r in rows]
    return [r for r, text in zip(rows, texts, strict=True) if all(t in text for t in terms)]


def shown(page: Any, column: int) -> list[str]:
    return list(page.locator(f"#decisions tbody tr td:nth-child({column + 1})").all_inner_texts())


def assert_clean(watched: Watched, *allowed: str) -> None:
    assert watched.problems == []
    assert sorted(set(watched.requests)) == sorted(allowed)


def test_the_charts_are_drawn_with_a_bar_per_repository_rule_and_age(
    watched: Watched, tmp_path: Path
) -> None:
    report = sample_report("plan")
    page = open_report(watched, report, tmp_path / "report.html")
    largest = reclaimed_per_repository(report)
    assert len(largest) > 20
    bars = page.locator("#bytes-chart rect.bar")
    expect(bars).to_have_count(20)
    drawn = bars.evaluate_all("bars => bars.map(b => b.getBBox().width)")
    assert all(w > 0 for w in drawn) and drawn == sorted(drawn, reverse=True)
    labels = page.locator("#bytes-chart g.row").evaluate_all(
        "rows => rows.map(r => r.dataset.label)"
    )
    assert labels == [name for name, _ in largest[:20]]
    # The hostile repository name is the largest: its label is drawn as text.
    assert page.locator("#bytes-chart g.row text").first.text_content() == largest[0][0]

    ages = page.locator("#age-chart rect.bar")
    expect(ages).to_have_count(2 * len(AGE_BUCKETS))
    heights = ages.evaluate_all("bars => bars.map(b => [b.dataset.value, b.getBBox().height])")
    assert all((float(h) > 0) == (int(v) > 0) for v, h in heights)
    assert sum(int(v) for v, _ in heights) == report.summary()["images_deleted"] + sum(
        len(p.kept) for p in report.repositories
    )

    rules = actions_per_rule(report)
    expect(page.locator("#rules-chart g.row")).to_have_count(len(rules))
    segments = sum((d > 0) + (u > 0) + (a > 0) for _, d, u, a in rules)
    expect(page.locator("#rules-chart rect.bar")).to_have_count(segments)
    assert_clean(watched, (tmp_path / "report.html").as_uri())


def test_the_filter_narrows_the_table_and_markup_in_the_data_stays_text(
    watched: Watched, tmp_path: Path
) -> None:
    report = sample_report("plan")
    page = open_report(watched, report, tmp_path / "report.html")
    rows = table_rows(report)
    body = page.locator("#decisions tbody tr")
    expect(body).to_have_count(PAGE)
    expect(page.locator("#count")).to_have_text(f"Showing {PAGE} of {len(rows):,} decisions")

    query = "service-05 FEATURE-b1"
    expected = matching(rows, query)
    assert 0 < len(expected) < PAGE
    page.fill("#filter", query)
    expect(body).to_have_count(len(expected))
    expect(page.locator("#count")).to_contain_text(f"of {len(expected)} matching")
    assert shown(page, 2) == [r[2][:19] for r in expected]
    assert all(repo == "team-b/service-05" for repo in shown(page, 1))

    page.fill("#filter", "alert")
    expect(body).to_have_count(1)
    assert shown(page, 3) == [HOSTILE_TAG] and shown(page, 8) == [HOSTILE_REASON]
    assert page.locator("script").count() == 2 and page.locator("img, b, em").count() == 0

    page.fill("#filter", "no such thing")
    expect(body).to_have_count(0)
    page.fill("#filter", "")
    expect(body).to_have_count(PAGE)
    page.click("#more")
    expect(body).to_have_count(2 * PAGE)
    assert_clean(watched, (tmp_path / "report.html").as_uri())


def test_clicking_a_column_sorts_the_table_and_again_reverses_it(
    watched: Watched, tmp_path: Path
) -> None:
    report = sample_report("run")
    page = open_report(watched, report, tmp_path / "report.html")
    rows = table_rows(report)
    size = page.locator("th[data-column=size]")
    size.locator("button").click()
    expect(size).to_have_attribute("aria-sort", "descending")
    # Largest first; equal sizes keep their order; rows without a size last.
    by_size = sorted(range(len(rows)), key=lambda i: (rows[i][5] is None, -(rows[i][5] or 0), i))
    assert shown(page, 2)[:10] == [rows[i][2][:19] for i in by_size[:10]]
    size.locator("button").click()
    expect(size).to_have_attribute("aria-sort", "ascending")
    ascending = sorted(range(len(rows)), key=lambda i: (rows[i][5] is None, rows[i][5] or 0, i))
    assert shown(page, 2)[:10] == [rows[i][2][:19] for i in ascending[:10]]

    status = page.locator("th[data-column=status]")
    status.locator("button").click()
    expect(status).to_have_attribute("aria-sort", "ascending")
    expect(size).to_have_attribute("aria-sort", "none")
    statuses = sorted(r[7].lower() for r in rows)
    assert shown(page, 7)[:5] == statuses[:5]
    assert shown(page, 7)[0].startswith("deleted")
    page.fill("#filter", "failed")
    expect(page.locator("#decisions tbody tr")).to_have_count(1)
    assert shown(page, 7) == ["failed (ImageReferencedByManifestList)"]
    assert_clean(watched, (tmp_path / "report.html").as_uri())


def test_a_picture_of_the_report(watched: Watched, tmp_path: Path, screenshots: Path) -> None:
    page = open_report(watched, sample_report("run", hostile=False), tmp_path / "report.html")
    page.set_viewport_size({"width": 1280, "height": 2150})
    page.fill("#filter", "service-03")
    expect(page.locator("#count")).to_contain_text("matching")
    status = page.locator("th[data-column=status]")
    status.locator("button").click()
    status.locator("button").click()  # descending: kept, then failed, then deleted
    expect(status).to_have_attribute("aria-sort", "descending")
    page.screenshot(path=str(screenshots / "report.png"))
    assert_clean(watched, (tmp_path / "report.html").as_uri())


def test_100000_rows_load_filter_and_sort_in_seconds(watched: Watched, tmp_path: Path) -> None:
    report = large_report(100_000)
    rows = table_rows(report)
    assert len(rows) == 100_000
    path = tmp_path / "large.html"
    path.write_text(to_html(report), encoding="utf-8")
    started = time.perf_counter()
    page = open_report(watched, None, path)  # until the table is drawn
    loaded = time.perf_counter() - started
    expect(page.locator("#count")).to_have_text(f"Showing {PAGE} of 100,000 decisions")
    expect(page.locator("#bytes-chart rect.bar")).to_have_count(20)

    query = "service-007 feature-b3-"
    expected = matching(rows, query)
    started = time.perf_counter()
    page.fill("#filter", query)
    expect(page.locator("#count")).to_contain_text(f"of {len(expected):,} matching")
    filtered = time.perf_counter() - started
    page.locator("th[data-column=age] button").click()
    expect(page.locator("th[data-column=age]")).to_have_attribute("aria-sort", "descending")
    oldest = max(r[6] for r in expected)
    assert shown(page, 6)[0] == f"{int(oldest)}d"
    print(
        f"100,000 rows: {path.stat().st_size:,} bytes, loaded in {loaded:.2f} s, "
        f"filtered in {filtered:.2f} s"
    )
    # Generous bounds for a busy 2-core machine; it takes about 1 s and 0.3 s alone.
    assert loaded < 30 and filtered < 15
    assert_clean(watched, path.as_uri())
