"""RunReport rendered: JSON (docs/report.md), a table and markdown for people."""

from __future__ import annotations

import json

from cleaner.core.model import ActionKind, RepositoryPlan
from cleaner.report.model import RunReport, sorted_plans


def to_json(report: RunReport) -> str:
    return json.dumps(report.to_dict(), indent=2) + "\n"


def _short(digest: str) -> str:
    return digest[:19]


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _rows(plan: RepositoryPlan) -> list[list[str]]:
    rows = []
    for a in plan.actions:
        what = _VERBS[a.kind]
        status = a.status.value + (f" ({a.failure_code})" if a.failure_code else "")
        tags = ", ".join(a.tags) or "<untagged>"
        rows.append([what, _short(a.digest), tags, a.rule, status, a.reason])
    for k in plan.kept:
        rows.append(["keep", _short(k.digest), ", ".join(k.tags) or "<untagged>", "", "", k.reason])
    return rows


HEADER = ["action", "digest", "tags", "rule", "status", "reason"]
_VERBS = {
    ActionKind.DELETE_IMAGE: "delete",
    ActionKind.REMOVE_TAG: "untag",
    ActionKind.ARCHIVE_IMAGE: "archive",
}


def _count(n: int, noun: str) -> str:
    plural = "repositories" if noun == "repository" else noun + "s"
    return f"{n} {noun if n == 1 else plural}"


def summary_line(report: RunReport) -> str:
    s = report.summary()
    plan = report.mode == "plan"
    verb = "would delete" if plan else "deleted"
    archived = ""
    if s["images_archived"]:
        archived = f", {'would archive' if plan else 'archived'} "
        archived += _count(s["images_archived"], "image")
    return (
        f"{_count(s['repositories'], 'repository')}, {_count(s['images_scanned'], 'image')} "
        f"scanned: {verb} {_count(s['images_deleted'], 'image')} and "
        f"{_count(s['tags_removed'], 'tag')} ({_size(s['bytes_reclaimed'])}){archived}; "
        f"{_count(s['failures'], 'failure')}"
    )


def _shard_note(report: RunReport) -> str:
    return f" (shard {report.shard}: its repositories only)" if report.shard else ""


def to_table(report: RunReport) -> str:
    lines = [f"ecr-cleaner {report.mode} at {report.now.isoformat()}{_shard_note(report)}"]
    for plan in sorted_plans(report.repositories):
        lines.append("")
        if plan.whole_target:
            lines.append(f"== target {_target(plan)}: FAILED: {plan.error}")
            continue
        title = f"{plan.repository.region} {plan.repository.registry_id} {plan.repository.name}"
        lines.append(f"== {title} (policy {plan.policy}, {plan.images_scanned} images)")
        if plan.error:
            lines.append(f"   ! {plan.error}")
        rows = _rows(plan)
        if not rows:
            lines.append("   nothing to do")
            continue
        widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER) - 1)]
        for row in [HEADER, *rows]:
            cells = [c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)]
            lines.append("   " + "  ".join([*cells, row[-1]]).rstrip())
    lines.append("")
    lines.extend(f"WARNING: {w}" for w in report.warnings)
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def _target(plan: RepositoryPlan) -> str:
    """A target as region/registry ("default": the caller's registry)."""
    return f"{plan.repository.region}/{plan.repository.registry_id}"


def _md(cell: str) -> str:
    return cell.replace("|", "\\|")


def to_markdown(report: RunReport) -> str:
    lines = [f"# ecr-cleaner {report.mode}", "", f"Evaluated at `{report.now.isoformat()}`."]
    if report.shard is not None:
        lines[-1] += f" Shard {report.shard} (its repositories only)."
    lines.extend(["", f"**{summary_line(report)}**"])
    lines.extend(f"\n> **Warning:** {w}" for w in report.warnings)
    for plan in sorted_plans(report.repositories):
        if plan.whole_target:
            lines.extend(["", f"## Target `{_target(plan)}`: FAILED", "", f"> {plan.error}"])
            continue
        lines.extend(
            [
                "",
                f"## `{plan.repository.name}` ({plan.repository.region}, "
                f"{plan.repository.registry_id})",
                "",
                f"Policy `{plan.policy}`, {plan.images_scanned} images scanned.",
            ]
        )
        if plan.error:
            lines.extend(["", f"> {plan.error}"])
        rows = _rows(plan)
        if rows:
            lines.extend(["", "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)])
            lines.extend("| " + " | ".join(_md(c) for c in row) + " |" for row in rows)
    return "\n".join(lines) + "\n"


RENDERERS = {"json": to_json, "table": to_table, "markdown": to_markdown}
