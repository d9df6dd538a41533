"""The HTML report's table data: every action and kept image as a compact row for
report.js, with repeated texts (rules, reasons, repositories) stored once."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from cleaner.core.model import ActionKind, RepositoryPlan
from cleaner.report.charts import esc
from cleaner.report.model import RunReport, sorted_plans

# The columns, in the order of each row (report.js reads them by position).
HEADINGS = ("action", "repository", "image", "tags", "rule", "size", "age", "status", "reason")
# The action column's word for each kind (report.js colours the row by it).
LABELS = {
    ActionKind.DELETE_IMAGE: "delete",
    ActionKind.REMOVE_TAG: "untag",
    ActionKind.ARCHIVE_IMAGE: "archive",
}


def qualified(report: RunReport) -> bool:
    """Name repositories with their registry and region only when the report has several."""
    places = {(p.repository.region, p.repository.registry_id) for p in report.repositories}
    return len(places) > 1


def label(plan: RepositoryPlan, qualify: bool) -> str:
    return str(plan.repository) if qualify else plan.repository.name


class _Strings:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        return self.index.setdefault(text, len(self.index))


def age_days(now: datetime, pushed: datetime | None) -> float | None:
    """Days, rounded down to a tenth as reasons round down to a day (pushed 169d ago)."""
    if pushed is None:
        return None
    return max(0.0, math.floor((now - pushed).total_seconds() / 8640) / 10)


def _tags(tags: Iterable[str]) -> str:
    return ", ".join(tags) or "<untagged>"


def decisions(report: RunReport) -> dict[str, Any]:
    s = _Strings()
    qualify = qualified(report)
    rows: list[list[Any]] = []
    for plan in sorted_plans(report.repositories):
        repo = s(label(plan, qualify))
        for a in plan.actions:
            what = LABELS[a.kind]
            status = a.status.value + (f" ({a.failure_code})" if a.failure_code else "")
            size = None if a.kind is ActionKind.REMOVE_TAG else a.size_bytes
            age = age_days(report.now, a.pushed_at)
            tags, rule, why = s(_tags(a.tags)), s(a.rule), s(a.reason)
            rows.append([s(what), repo, a.digest, tags, rule, size, age, s(status), why])
        for k in plan.kept:
            age = age_days(report.now, k.pushed_at)
            tags, why = s(_tags(k.tags)), s(k.reason)
            rows.append([s("keep"), repo, k.digest, tags, s(""), k.size_bytes, age, s("kept"), why])
    return {"strings": list(s.index), "rows": rows}


def script_json(data: Any) -> str:
    """JSON that cannot end its <script> element early or open a comment in it."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def table(report: RunReport) -> str:
    heads = "".join(
        f'<th aria-sort="none" data-column="{esc(h)}"><button type="button">{esc(h)}</button></th>'
        for h in HEADINGS
    )
    return (
        '<h2 id="decisions-title">Every decision</h2>'
        '<p class="muted">Each action and each image a rule selected but kept, with its '
        "reason. Type to filter (every word must match: action, repository, tags, rule, status, "
        "reason or digest); click a column to sort.</p>"
        '<div class="controls"><input id="filter" type="search" autocomplete="off" '
        'placeholder="Filter, e.g. failed, or a repository and a tag" aria-label="Filter">'
        '<span class="count" id="count" aria-live="polite"></span></div>'
        "<noscript><p>The table needs JavaScript; the JSON report has every decision."
        "</p></noscript>"
        f'<table id="decisions"><thead><tr>{heads}</tr></thead><tbody></tbody></table>'
        '<button type="button" class="more" id="more" hidden>Show more</button>'
        '<script type="application/json" id="report-data">'
        f"{script_json(decisions(report))}</script>"
    )
