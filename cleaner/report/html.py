"""The report as one self-contained HTML page: totals, savings, SVG charts and a table
of every decision that a small inline script filters and sorts.

Nothing on the page is fetched: the style, the script and the data are inline, the
charts are SVG drawn here, and a Content-Security-Policy with the hashes of the one
style and the one script forbids everything else (so a tag that reads `<script>` is
text twice over: escaped, and any script it could become would not run).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import Any

from cleaner.report.charts import esc
from cleaner.report.decisions import label, qualified, table
from cleaner.report.figures import charts
from cleaner.report.model import RunReport, sorted_plans
from cleaner.report.summary import size as _size

MAX_ERRORS_LISTED = 200


@cache
def _asset(name: str) -> str:
    return files("cleaner.report").joinpath("assets", name).read_text(encoding="utf-8")


def stylesheet() -> str:
    return _asset("report.css")


def content_security_policy(style: str, script: str | None = None) -> str:
    """Only this page's own inline style (and script) may apply; nothing may be loaded."""

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    scripts = digest(script) if script is not None else "'none'"
    return (
        f"default-src 'none'; style-src {digest(style)}; script-src {scripts}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


def savings_of(summary: Mapping[str, Any]) -> float:
    """The summary's estimate (report/model.py prices it; reports written before the
    estimate existed have none: 0)."""
    return float(summary.get("estimated_monthly_savings_usd", 0.0))


def page(title: str, body: str, script: str | None = None) -> str:
    style = stylesheet()
    csp = content_security_policy(style, script)
    tail = f"<script>{script}</script>" if script is not None else ""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # An empty icon: else a browser asks the server for /favicon.ico (a 404).
        '<link rel="icon" href="data:,">'
        f"<title>{esc(title)}</title><style>{style}</style></head>"
        f"<body><main>{body}</main>{tail}</body></html>\n"
    )


def to_html(report: RunReport, *, outcome: str | None = None) -> str:
    body = "".join(
        [
            _header(report, outcome),
            _totals(report),
            _warnings(report),
            charts(report),
            _errors(report),
            table(report),
        ]
    )
    return page(f"ecr-cleaner {report.mode} {report.now.isoformat()}", body, _asset("report.js"))


def _header(report: RunReport, outcome: str | None) -> str:
    seconds = (report.finished_at - report.started_at).total_seconds()
    planned = report.mode == "plan"
    facts = [
        f"Evaluated at <strong>{esc(report.now.isoformat())}</strong>",
        f"took {seconds:,.1f} s",
    ]
    if report.shard is not None:
        facts.append(f"shard {esc(report.shard)} (its repositories only)")
    if outcome is not None:
        facts.append(f'outcome <span class="outcome-{esc(outcome)}">{esc(outcome)}</span>')
    kind = "a dry run: nothing was deleted" if planned else "expired images were deleted"
    return (
        f"<h1>ecr-cleaner {esc(report.mode)}</h1>"
        f'<p class="meta">{esc(kind)} · {" · ".join(facts)}</p>'
    )


def _card(value: str, caption: str, css: str = "") -> str:
    return (
        f'<div class="card {css}"><span class="value">{esc(value)}</span>'
        f'<span class="label">{esc(caption)}</span></div>'
    )


def _totals(report: RunReport) -> str:
    s = report.summary()
    planned = report.mode == "plan"
    kept = sum(len(p.kept) for p in report.repositories)
    savings = savings_of(s)
    priced = f"at ${report.storage_price_per_gb_month:.2f} per GB-month"
    cards = [
        _card(f"{s['repositories']:,}", "repositories"),
        _card(f"{s['images_scanned']:,}", "images scanned"),
        _card(f"{s['images_deleted']:,}", "images to delete" if planned else "images deleted"),
        _card(f"{s['tags_removed']:,}", "tags to remove" if planned else "tags removed"),
        _card(_size(s["bytes_reclaimed"]), "reclaimable" if planned else "reclaimed"),
        _card(f"${savings:,.2f}", "a month saved, at most", "savings"),
        _card(f"{kept:,}", "kept by the rules"),
        _card(f"{s['failures']:,}", "failures", "bad" if s["failures"] else ""),
    ]
    if s["images_archived"]:  # archive storage: out of service, restorable, still billed
        archived = "images to archive" if planned else "images archived"
        cards.insert(3, _card(f"{s['images_archived']:,}", archived, "archive"))
    return (
        f'<section class="totals" id="totals">{"".join(cards)}</section>'
        f'<p class="note" id="savings-note">The savings are an upper bound: '
        f"{esc(_size(s['bytes_reclaimed']))} {esc(priced)}. ECR stores each layer once per "
        "repository, so layers that the deleted images share with images that stay are "
        "not freed, and the bill goes down by less.</p>"
    )


def _warnings(report: RunReport) -> str:
    if not report.warnings:
        return ""
    items = "".join(f"<li>{esc(w)}</li>" for w in report.warnings)
    return (
        '<section class="warnings" id="warnings"><strong>Warnings</strong>'
        f"<ul>{items}</ul></section>"
    )


def _errors(report: RunReport) -> str:
    failing = [p for p in sorted_plans(report.repositories) if p.error]
    if not failing:
        return ""
    qualify = qualified(report)
    rows = "".join(
        f"<tr><td>{esc('target ' + label(p, True) if p.whole_target else label(p, qualify))}"
        f"</td><td>{esc(p.error)}</td></tr>"
        for p in failing[:MAX_ERRORS_LISTED]
    )
    more = len(failing) - MAX_ERRORS_LISTED
    tail = f'<p class="muted">and {more:,} more: see the JSON report</p>' if more > 0 else ""
    return (
        f'<h2 id="errors">Repositories not fully processed ({len(failing):,})</h2>'
        f"<table><thead><tr><th>repository</th><th>why</th></tr></thead><tbody>{rows}"
        f"</tbody></table>{tail}"
    )
