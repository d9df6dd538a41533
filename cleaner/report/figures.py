"""The HTML report's three charts: storage per repository, ages of images deleted and
kept, actions per rule (drawn by cleaner/report/charts.py)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from cleaner.core.model import ActionKind
from cleaner.report.charts import Row, Series, esc, grouped_columns, horizontal_bars
from cleaner.report.decisions import label, qualified
from cleaner.report.model import RunReport
from cleaner.report.summary import size as _size

TOP_REPOSITORIES = 20
TOP_RULES = 20
AGE_BUCKETS = (  # (upper bound in days, label)
    (1, "< 1 d"),
    (7, "1-7 d"),
    (30, "1-4 wk"),
    (91, "1-3 mo"),
    (182, "3-6 mo"),
    (365, "6-12 mo"),
    (float("inf"), "> 1 yr"),
)
DELETE = Series("deletions", "fill-delete")
UNTAG = Series("tag removals", "fill-untag")
KEEP = Series("kept", "fill-keep")
ARCHIVE = Series("archives", "fill-archive")


def charts(report: RunReport) -> str:
    return (
        '<h2>At a glance</h2><section class="charts">'
        f"{_bytes_figure(report)}{_ages_figure(report)}{_rules_figure(report)}</section>"
    )


def reclaimed_per_repository(report: RunReport) -> list[tuple[str, int]]:
    """Bytes of the images deleted (or to delete) per repository, largest first: the
    same images as the summary's bytes_reclaimed."""
    qualify = qualified(report)
    counted = report.counted_status
    reclaim: Counter[str] = Counter()
    for plan in report.repositories:
        for a in plan.actions:
            if a.kind is ActionKind.DELETE_IMAGE and a.status is counted:
                reclaim[label(plan, qualify)] += a.size_bytes
    return sorted((n for n in reclaim.items() if n[1] > 0), key=lambda n: (-n[1], n[0]))


def _bytes_figure(report: RunReport) -> str:
    largest = reclaimed_per_repository(report)
    verb = "reclaimable" if report.mode == "plan" else "reclaimed"
    rest = largest[TOP_REPOSITORIES:]
    more = (
        f"; {len(rest):,} more repositories hold {_size(sum(b for _, b in rest))}" if rest else ""
    )
    chart = horizontal_bars(
        [Row(name, (size,), _size(size)) for name, size in largest[:TOP_REPOSITORIES]],
        [DELETE],
        chart_id="bytes-chart",
        width=1150,
        label_width=320,
        title=f"Storage {verb} per repository",
        empty="no repository has images to delete",
    )
    return (
        f'<figure class="wide"><figcaption>Storage {verb} per repository'
        f'<span class="sub">The {min(len(largest), TOP_REPOSITORIES)} largest of '
        f"{len(largest):,} repositories with images to delete, largest first{esc(more)}"
        f"</span></figcaption>{chart}</figure>"
    )


def age_bucket(now: datetime, pushed: datetime | None) -> int | None:
    if pushed is None:
        return None
    days = (now - pushed).total_seconds() / 86400
    return next(i for i, (limit, _) in enumerate(AGE_BUCKETS) if days < limit)


def ages(report: RunReport) -> tuple[list[int], list[int]]:
    """Per age bucket: images deleted (or to delete), images a rule selected and kept."""
    removed, kept = [0] * len(AGE_BUCKETS), [0] * len(AGE_BUCKETS)
    counted = report.counted_status
    for plan in report.repositories:
        for a in plan.actions:
            bucket = age_bucket(report.now, a.pushed_at)
            if a.kind is ActionKind.DELETE_IMAGE and a.status is counted and bucket is not None:
                removed[bucket] += 1
        for k in plan.kept:
            if (bucket := age_bucket(report.now, k.pushed_at)) is not None:
                kept[bucket] += 1
    return removed, kept


def _ages_figure(report: RunReport) -> str:
    removed, kept = ages(report)
    gone = "to delete" if report.mode == "plan" else "deleted"
    chart = grouped_columns(
        [name for _, name in AGE_BUCKETS],
        [(Series(gone, DELETE.css), removed), (KEEP, kept)],
        chart_id="age-chart",
        title="Age of images deleted and kept",
    )
    return (
        f"<figure><figcaption>Age of images {gone} and kept"
        '<span class="sub">Time since push when the policy was evaluated. Kept: images a '
        "rule selected but did not expire (images no rule selects are not counted)."
        f"</span></figcaption>{chart}</figure>"
    )


def actions_per_rule(report: RunReport) -> list[tuple[str, int, int, int]]:
    """(rule, deletions, tag removals, archives), most actions first, whatever their
    status."""
    per_rule: dict[str, Counter[ActionKind]] = {}
    for plan in report.repositories:
        for a in plan.actions:
            per_rule.setdefault(a.rule, Counter())[a.kind] += 1
    counts = [
        (rule, k[ActionKind.DELETE_IMAGE], k[ActionKind.REMOVE_TAG], k[ActionKind.ARCHIVE_IMAGE])
        for rule, k in per_rule.items()
    ]
    return sorted(counts, key=lambda r: (-(r[1] + r[2] + r[3]), r[0]))


def _rules_figure(report: RunReport) -> str:
    ranked = actions_per_rule(report)
    # The archive series only when something was archived: a report without archives
    # keeps its two-series chart.
    archiving = any(archives for *_, archives in ranked)
    rows = []
    for rule, deletes, untags, archives in ranked[:TOP_RULES]:
        detail = f"rule {rule}: {deletes:,} deletions, {untags:,} tag removals"
        values: tuple[float, ...] = (deletes, untags)
        if archiving:
            detail += f", {archives:,} archives"
            values += (archives,)
        rows.append(Row(rule, values, f"{deletes + untags + archives:,}", detail))
    chart = horizontal_bars(
        rows,
        [DELETE, UNTAG, ARCHIVE] if archiving else [DELETE, UNTAG],
        chart_id="rules-chart",
        title="Actions per rule",
        width=560,
        label_width=170,
        empty="no rule expired anything",
    )
    more = f" ({len(ranked) - TOP_RULES} more rules not shown)" if len(ranked) > TOP_RULES else ""
    return (
        "<figure><figcaption>Actions per rule"
        f'<span class="sub">Every action, whatever its status, by the rule behind it{esc(more)}'
        f"</span></figcaption>{chart}</figure>"
    )
