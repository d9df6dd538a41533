"""The report's totals and one line per repository: `--format summary`, the headings of
the table, the markdown summary a CI job shows, and the words they share."""

from __future__ import annotations

from collections.abc import Sequence

from cleaner.core.model import RepositoryPlan
from cleaner.report.model import SAVINGS_CAVEAT, RepositoryCounts, RunReport, sorted_plans

# Rows of the markdown summary: enough for a page, well under a CI summary's size cap.
MARKDOWN_ROWS = 100


def size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def count(n: int, noun: str) -> str:
    plural = "repositories" if noun == "repository" else noun + "s"
    return f"{n:,} {noun if n == 1 else plural}"


def verb(report: RunReport) -> str:
    return "would delete" if report.mode == "plan" else "deleted"


def summary_line(report: RunReport) -> str:
    s = report.summary()
    return (
        f"{count(s['repositories'], 'repository')}, {count(s['images_scanned'], 'image')} "
        f"scanned: {verb(report)} {count(s['images_deleted'], 'image')} and "
        f"{count(s['tags_removed'], 'tag')} ({size(s['bytes_reclaimed'])})"
        f"{archived_part(report, s['images_archived'])}; {count(s['failures'], 'failure')}"
    )


def archived_part(report: RunReport, archived: int) -> str:
    """`, archived N images` (in a plan: would archive), or nothing when none were."""
    if not archived:
        return ""
    done = "would archive" if report.mode == "plan" else "archived"
    return f", {done} {count(archived, 'image')}"


def money(usd: float) -> str:
    return f"${usd:,.2f}"


def savings_line(report: RunReport) -> str:
    """The savings estimate, always with why it is an upper bound."""
    s = report.summary()
    usd = s["estimated_monthly_savings_usd"]
    amount = "less than $0.01" if usd < 0.01 and s["bytes_reclaimed"] else f"up to {money(usd)}"
    price = money(report.storage_price_per_gb_month)
    return f"Estimated savings: {amount} a month at {price} per GB-month ({SAVINGS_CAVEAT})"


def savings_lines(report: RunReport) -> list[str]:
    """savings_line on two lines, to fit a terminal."""
    first, _, why = savings_line(report).partition(" (")
    return [first, f"  ({why}"]


def repository_name(plan: RepositoryPlan) -> str:
    if plan.whole_target:
        return f"target {plan.repository.region}/{plan.repository.registry_id}"
    return plan.repository.name


def problem(plan: RepositoryPlan, counts: RepositoryCounts) -> str:
    """The repository's error, or how many of its actions failed; "" if neither."""
    if plan.error:
        return plan.error
    return f"{count(counts.failures, 'action')} failed" if counts.failures else ""


def repository_line(report: RunReport, plan: RepositoryPlan, *, problem_too: bool = True) -> str:
    """`2,000 images scanned: would delete 690 images and 3 tags (658.0 MiB)`, and the
    repository's error or failed actions after a `;` unless `problem_too` is false."""
    c = report.counts(plan)
    line = (
        f"{count(c.images_scanned, 'image')} scanned: {verb(report)} "
        f"{count(c.images_deleted, 'image')} and {count(c.tags_removed, 'tag')} "
        f"({size(c.bytes_reclaimed)}){archived_part(report, c.images_archived)}"
    )
    trouble = problem(plan, c) if problem_too else ""
    return f"{line}; {trouble}" if trouble else line


def _rows(report: RunReport, plans: Sequence[RepositoryPlan]) -> list[list[str]]:
    rows = []
    for plan in plans:
        c = report.counts(plan)
        rows.append(
            [
                plan.repository.region,
                plan.repository.registry_id,
                repository_name(plan),
                f"{c.images_scanned:,}",
                f"{c.images_deleted:,}",
                f"{c.tags_removed:,}",
                size(c.bytes_reclaimed),
                problem(plan, c),
            ]
        )
    return rows


def _header(report: RunReport) -> list[str]:
    deleted = "to delete" if report.mode == "plan" else "deleted"
    return ["region", "registry", "repository", "images", deleted, "tags", "size", "error"]


_RIGHT = {3, 4, 5, 6}  # numbers line up on the right


def _title(report: RunReport) -> str:
    shard = f" (shard {report.shard}: its repositories only)" if report.shard else ""
    return f"ecr-cleaner {report.mode} at {report.now.isoformat()}{shard}"


def to_summary(report: RunReport) -> str:
    """Totals first, then one line per repository: for registries too large to read
    action by action (the table and the JSON have every action)."""
    lines = [_title(report), summary_line(report), *savings_lines(report)]
    lines.extend(f"WARNING: {w}" for w in report.warnings)
    rows = [_header(report), *_rows(report, sorted_plans(report.repositories))]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines.append("")
    for row in rows:
        cells = [
            c.rjust(w) if i in _RIGHT else c.ljust(w)
            for i, (c, w) in enumerate(zip(row[:-1], widths, strict=True))
        ]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines) + "\n"


def _largest_first(report: RunReport) -> list[RepositoryPlan]:
    """Repositories with something to say: errors first, then by bytes reclaimed."""

    def key(plan: RepositoryPlan) -> tuple[bool, int, str]:
        c = report.counts(plan)
        return (not problem(plan, c), -c.bytes_reclaimed, plan.repository.name)

    worth = [p for p in report.repositories if p.error or p.failed or any(True for _ in p.actions)]
    return sorted(worth, key=key)


def _md(cell: str) -> str:
    return cell.replace("|", "\\|")


def to_markdown_summary(report: RunReport) -> str:
    """Totals, savings, warnings and the repositories with actions or errors (largest
    first, at most MARKDOWN_ROWS): what a CI job's summary page shows."""
    lines = [f"### {_title(report)}", "", f"**{summary_line(report)}**", ""]
    lines.append(savings_line(report))
    lines.extend(f"\n> **Warning:** {w}" for w in report.warnings)
    chosen = _largest_first(report)
    if chosen:
        header = _header(report)
        lines.extend(["", "| " + " | ".join(header) + " |"])
        lines.append("|" + "".join("---:|" if i in _RIGHT else "---|" for i in range(len(header))))
        for row in _rows(report, chosen[:MARKDOWN_ROWS]):
            lines.append("| " + " | ".join(_md(c) for c in row) + " |")
        if len(chosen) > MARKDOWN_ROWS:
            rest = len(chosen) - MARKDOWN_ROWS
            lines.extend(["", f"… and {count(rest, 'repository')} more (the report has all)."])
    return "\n".join(lines) + "\n"
