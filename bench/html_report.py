"""The HTML report at scale: plan N synthetic images (bench/synthetic.py, 2,000 per
repository, sizes that differ by repository), render the page, and report its size
and render time; with --browser, also how long headless Chromium takes to open it
until the table is drawn, and to filter and sort it.

    python -m bench.html_report 100000 /tmp/report.html --browser
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import time
from pathlib import Path
from typing import Any

from bench.common import NOW, policy, quiet_logs
from bench.synthetic import inventory
from cleaner.config.load import load_config_text
from cleaner.core.model import Inventory, RepositoryRef
from cleaner.core.planner import plan_repository
from cleaner.report.html import to_html
from cleaner.report.model import RunReport

PER_REPOSITORY = 2000
TEAMS = ("payments", "search", "platform", "mobile", "data")


def _varied(repo: int, per_repository: int) -> Inventory:
    """bench.synthetic's repository, renamed like a team's, its image sizes its own."""
    base = inventory(repo, per_repository)
    scale = 1 + (repo * 37) % 23
    images = {
        digest: dataclasses.replace(image, size=image.size * scale + (n % 7) * 250_000)
        for n, (digest, image) in enumerate(base.images.items())
    }
    name = f"{TEAMS[repo % len(TEAMS)]}/service-{repo:03d}"
    ref = RepositoryRef(base.repository.region, base.repository.registry_id, name)
    return Inventory(ref, images, base.index_children)


def build_report(images: int, per_repository: int = PER_REPOSITORY) -> RunReport:
    config = load_config_text(policy())
    pol = config.policies[0]
    repositories = max(1, images // per_repository)
    plans = [
        plan_repository(_varied(r, per_repository), pol, config.limits, NOW)
        for r in range(repositories)
    ]
    return RunReport("plan", NOW, NOW, NOW, plans)


def open_in_browser(path: Path) -> dict[str, float]:
    """Seconds until the table is drawn, then to filter it and to sort it (Chromium)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"))
        page = browser.new_page()
        started = time.perf_counter()
        page.goto(path.resolve().as_uri())
        page.wait_for_selector("body[data-ready=true]", timeout=120_000)
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        page.fill("#filter", "feature-b3")
        page.wait_for_selector("#count:has-text('matching')", timeout=60_000)
        filtered = time.perf_counter() - started - 0.12  # less the pause after typing
        started = time.perf_counter()
        page.click("th[data-column=size] button")
        page.wait_for_selector("th[data-column=size][aria-sort=descending]")
        sorted_in = time.perf_counter() - started
        browser.close()
    return {"load_seconds": loaded, "filter_seconds": filtered, "sort_seconds": sorted_in}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("images", type=int, nargs="?", default=100_000)
    parser.add_argument("output", nargs="?", default="report.html")
    parser.add_argument("--browser", action="store_true", help="also time it in Chromium")
    args = parser.parse_args()
    quiet_logs()
    report = build_report(args.images)
    started = time.perf_counter()
    text = to_html(report)
    rendered = time.perf_counter() - started
    out = Path(args.output)
    out.write_text(text, encoding="utf-8")
    rows = sum(len(p.actions) + len(p.kept) for p in report.repositories)
    result: dict[str, Any] = {
        "images": report.summary()["images_scanned"],
        "table_rows": rows,
        "bytes": out.stat().st_size,
        "render_seconds": round(rendered, 3),
    }
    if args.browser:
        result.update({k: round(v, 3) for k, v in open_in_browser(out).items()})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
