"""RunReport rendered: JSON (docs/report.md), a table and markdown for people, and the
summary (report/summary.py) for registries too large to read action by action."""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
from collections.abc import Callable, Sequence

from cleaner.core.model import ActionKind, RepositoryPlan
from cleaner.report.model import RunReport, sorted_plans
from cleaner.report.summary import (
    repository_line,
    savings_line,
    savings_lines,
    summary_line,
    to_markdown_summary,
    to_summary,
)

__all__ = [
    "RENDERERS",
    "summary_line",
    "to_json",
    "to_markdown",
    "to_markdown_summary",
    "to_summary",
    "to_table",
]

MIN_WIDTH = 60
# A reason wraps onto more lines where it does not fit; rule, status and tags shrink
# (to their floors) only to give it MIN_REASON columns.
MIN_REASON = 30
# Widest each column but the reason may be, and how far it may shrink on a narrow
# terminal: action, digest, tags, rule, status.
CAPS = (7, 19, 32, 24, 28)
FLOORS = (7, 19, 12, 10, 7)
INDENT = "   "
GAP = "  "


def to_json(report: RunReport) -> str:
    return json.dumps(report.to_dict(), indent=2) + "\n"


def terminal_width() -> int | None:
    """The width lines must fit: $COLUMNS, else the terminal's if stdout is one. None
    off a terminal (a file, a pipe): one line per action, whatever its length, which
    grep and diff read best."""
    if not os.environ.get("COLUMNS") and not sys.stdout.isatty():
        return None
    return max(MIN_WIDTH, shutil.get_terminal_size().columns)


def _short(digest: str) -> str:
    return digest[:19]


def elide(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def elide_tags(tags: Sequence[str], width: int) -> str:
    """As many tags as fit, then how many more: `build-1, build-2, … (+148)`."""
    if not tags:
        return "<untagged>"
    full = ", ".join(tags)
    if len(full) <= width:
        return full
    shown, n = "", 0
    for tag in tags:
        candidate = f"{shown}, {tag}" if shown else tag
        if len(candidate) + len(f", … (+{len(tags) - n - 1})") > width:
            break
        shown, n = candidate, n + 1
    if len(tags) == 1:
        return elide(tags[0], width)
    if not n:  # not even the first tag fits whole
        more = f" (+{len(tags) - 1})"
        return elide(tags[0], width - len(more)) + more
    return f"{shown}, … (+{len(tags) - n})"


def _rows(plan: RepositoryPlan) -> list[list[str | tuple[str, ...]]]:
    """action, digest, tags (a tuple: the table elides it), rule, status, reason."""
    rows: list[list[str | tuple[str, ...]]] = []
    for a in plan.actions:
        what = _VERBS[a.kind]
        status = a.status.value + (f" ({a.failure_code})" if a.failure_code else "")
        rows.append([what, _short(a.digest), a.tags, a.rule, status, a.reason])
    for k in plan.kept:
        rows.append(["keep", _short(k.digest), k.tags, "", "", k.reason])
    return rows


def _text(cell: str | tuple[str, ...]) -> str:
    return cell if isinstance(cell, str) else ", ".join(cell) or "<untagged>"


HEADER = ["action", "digest", "tags", "rule", "status", "reason"]
_VERBS = {
    ActionKind.DELETE_IMAGE: "delete",
    ActionKind.REMOVE_TAG: "untag",
    ActionKind.ARCHIVE_IMAGE: "archive",
}


def _widths(
    rows: Sequence[Sequence[str | tuple[str, ...]]], width: int | None
) -> tuple[list[int], int]:
    """Column widths (all but the reason) and the reason's, so a line fits `width`
    (None: no limit; the reason is never wrapped)."""
    natural = [max(len(_text(r[i])) for r in rows) for i in range(len(CAPS))]
    widths = [min(n, cap) for n, cap in zip(natural, CAPS, strict=True)]
    reason = max(len(_text(r[-1])) for r in rows)
    if width is None:
        return widths, max(reason, 1)
    fixed = len(INDENT) + len(GAP) * len(CAPS)
    need = min(reason, MIN_REASON) - (width - fixed - sum(widths))
    for i in (3, 4, 2):
        cut = max(0, min(need, widths[i] - min(FLOORS[i], widths[i])))
        widths[i] -= cut
        need -= cut
    return widths, max(MIN_REASON, width - fixed - sum(widths))


def _table_lines(plan: RepositoryPlan, width: int | None) -> list[str]:
    rows: list[Sequence[str | tuple[str, ...]]] = [HEADER, *_rows(plan)]
    widths, reason_width = _widths(rows, width)
    lines = []
    for row in rows:
        cells = []
        for cell, w in zip(row[:-1], widths, strict=True):
            text = elide_tags(cell, w) if isinstance(cell, tuple) else elide(cell, w)
            cells.append(text.ljust(w))
        reason = textwrap.wrap(_text(row[-1]), reason_width) or [""]
        lines.append((INDENT + GAP.join([*cells, reason[0]])).rstrip())
        pad = INDENT + " " * (sum(widths) + len(GAP) * len(widths))
        lines.extend(pad + more for more in reason[1:])
    return lines


def _shard_note(report: RunReport) -> str:
    return f" (shard {report.shard}: its repositories only)" if report.shard else ""


def to_table(report: RunReport, width: int | None = None) -> str:
    """Every action and kept image with its reason, each repository under its one-line
    summary; lines fit `width` (default: the terminal's, see terminal_width)."""
    width = width or terminal_width()
    lines = [f"ecr-cleaner {report.mode} at {report.now.isoformat()}{_shard_note(report)}"]
    for plan in sorted_plans(report.repositories):
        lines.append("")
        if plan.whole_target:
            lines.append(f"== target {_target(plan)}: FAILED: {plan.error}")
            continue
        title = f"{plan.repository.region} {plan.repository.registry_id} {plan.repository.name}"
        lines.append(f"== {title} (policy {plan.policy})")
        lines.append(f"{INDENT}{repository_line(report, plan, problem_too=False)}")
        if plan.error:
            lines.append(f"{INDENT}! {plan.error}")
        if not plan.actions and not plan.kept:
            lines.append(f"{INDENT}nothing to do")
            continue
        lines.extend(_table_lines(plan, width))
    lines.append("")
    lines.extend(f"WARNING: {w}" for w in report.warnings)
    lines.append(summary_line(report))
    lines.extend(savings_lines(report))
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
    lines.extend(["", f"**{summary_line(report)}**", "", savings_line(report)])
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
                f"Policy `{plan.policy}`: {repository_line(report, plan)}.",
            ]
        )
        if plan.error:
            lines.extend(["", f"> {plan.error}"])
        rows = _rows(plan)
        if rows:
            lines.extend(["", "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)])
            lines.extend("| " + " | ".join(_md(_text(c)) for c in row) + " |" for row in rows)
    return "\n".join(lines) + "\n"


def to_html(report: RunReport) -> str:
    from cleaner.report.html import to_html  # it imports this module: load it when used

    return to_html(report)


Renderer = Callable[[RunReport], str]
RENDERERS: dict[str, Renderer] = {
    "json": to_json,
    "table": to_table,
    "summary": to_summary,
    "markdown": to_markdown,
    "html": to_html,
}
