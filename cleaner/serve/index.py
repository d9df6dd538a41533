"""serve's index page at `/`: the service's state and its recent runs, each with links
to its HTML and JSON reports. Plain HTML with the report's stylesheet, no script."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from cleaner.report.charts import esc
from cleaner.report.directory import RunEntry
from cleaner.report.html import page
from cleaner.report.summary import size as _size

RUNS_LISTED = 100
REPORTS_PATH = "/reports/"


def _when(iso: str | None) -> str:
    if not iso:
        return "-"
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _link(base: str, extension: str) -> str:
    href = REPORTS_PATH + quote(f"{base}.{extension}")
    return f'<a href="{esc(href)}">{extension.upper()}</a>'


def _row(entry: RunEntry) -> str:
    outcome = entry.outcome or "unknown"
    plural = "failure" if entry.failures == 1 else "failures"
    failures = f" ({entry.failures:,} {plural})" if entry.failures else ""
    links = [_link(entry.base, "html")] if entry.has_html else []
    links.append(_link(entry.base, "json"))
    return (
        f'<tr data-run="{esc(entry.base)}"><td class="nowrap">{esc(_when(entry.now))}</td>'
        f"<td>{esc(entry.mode)}</td>"
        f'<td><span class="outcome-{esc(outcome)}">{esc(outcome)}</span>{esc(failures)}</td>'
        f'<td class="num">{entry.images_deleted:,}</td><td class="num">{entry.tags_removed:,}</td>'
        f'<td class="num">{esc(_size(entry.bytes_reclaimed))}</td>'
        f'<td class="num">up to ${entry.savings_usd:,.2f}</td>'
        f"<td>{' · '.join(links)}</td></tr>"
    )


def _status(health: Mapping[str, Any]) -> str:
    schedule = health.get("schedule")
    facts = [
        f"status <strong>{esc(health.get('status', 'unknown'))}</strong>",
        "dry run: nothing is deleted" if health.get("dry_run") else "deletes what expires",
    ]
    if schedule:
        facts.append(f"schedule <code>{esc(schedule['cron'])}</code> ({esc(schedule['timezone'])})")
    facts.append(f"next run {esc(_when(health.get('next_run')))}")
    facts.append('<a href="/healthz">/healthz</a> · <a href="/metrics">/metrics</a>')
    return f'<p class="meta" id="status">{" · ".join(facts)}</p>'


def render_index(health: Mapping[str, Any], entries: Sequence[RunEntry] | None) -> str:
    """`entries` None: serve keeps no reports (no --report-dir)."""
    parts = ["<h1>ecr-cleaner serve</h1>", _status(health), "<h2>Recent runs</h2>"]
    if entries is None:
        last = health.get("last_run")
        told = ""
        if last:
            told = (
                f" The last run finished at {esc(_when(last['finished_at']))}: "
                f"{esc(last['outcome'])}."
            )
        parts.append(
            "<p>Reports are not kept: start serve with <code>--report-dir DIR</code> to list "
            f"each run here with its HTML and JSON reports.{told}</p>"
        )
    elif not entries:
        parts.append("<p>No run has written a report yet.</p>")
    else:
        head = "".join(f"<th>{h}</th>" for h in ("time", "mode", "outcome"))
        head += "".join(
            f'<th class="num">{h}</th>'
            for h in ("images deleted", "tags removed", "storage freed", "savings / month")
        )
        head += "<th>reports</th>"
        rows = "".join(_row(e) for e in entries)
        parts.append(
            f'<table id="runs"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
            '<p class="note">Newest first. In a plan (a dry run) the counts are what the run '
            "would have deleted. Savings are an upper bound: layers that deleted images share "
            "with images that stay are not freed.</p>"
        )
    return page("ecr-cleaner serve", "".join(parts))
