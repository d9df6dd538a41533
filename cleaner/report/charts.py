"""Bar charts as inline SVG, drawn here so that the HTML report needs no script or
network to show them. Every text goes through `esc`; colours come from CSS classes.

Each data rectangle has class `bar` and `data-series`/`data-value` attributes, so a
test (or a curious reader of the source) can check what was drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape


def esc(text: object) -> str:
    return escape(str(text), quote=True)


@dataclass(frozen=True)
class Series:
    name: str
    css: str  # fill class: fill-delete, fill-untag, fill-keep


@dataclass(frozen=True)
class Row:
    label: str
    values: tuple[float, ...]  # one per series
    text: str  # shown after the bar
    detail: str = ""  # tooltip


def compact(n: float) -> str:
    """1234 -> 1.2k: short enough to sit above a narrow column."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= limit:
            value = n / limit
            return f"{value:.1f}{suffix}" if value < 10 else f"{value:.0f}{suffix}"
    return f"{n:.0f}"


def shorten(label: str, limit: int) -> str:
    """Cut the middle: repository names differ most at both ends (team/…/service)."""
    if len(label) <= limit:
        return label
    head = (limit - 1) // 3
    return label[:head] + "…" + label[len(label) - (limit - 1 - head) :]


def _legend(series: Sequence[Series], x: float, y: float) -> str:
    parts = []
    for s in series:
        parts.append(
            f'<rect x="{x:.0f}" y="{y - 9:.0f}" width="10" height="10" rx="2" class="{s.css}"/>'
            f'<text x="{x + 14:.0f}" y="{y:.0f}">{esc(s.name)}</text>'
        )
        x += 24 + 7 * len(s.name)
    return "".join(parts)


def _svg(chart_id: str, width: int, height: int, title: str, body: str) -> str:
    return (
        f'<svg id="{esc(chart_id)}" class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{esc(title)}</title>{body}</svg>"
    )


def horizontal_bars(
    rows: Sequence[Row],
    series: Sequence[Series],
    *,
    chart_id: str,
    title: str,
    width: int = 900,
    label_width: int = 300,
    empty: str = "nothing to show",
) -> str:
    """One row per item, its series stacked left to right, `text` after the bar."""
    row_height, top = 24, 28 if len(series) > 1 else 6
    if not rows:
        body = f'<text class="empty" x="10" y="24">{esc(empty)}</text>'
        return _svg(chart_id, width, 40, title, body)
    largest = max(sum(r.values) for r in rows) or 1
    room = width - label_width - 110  # what is left for the value text
    parts = [_legend(series, label_width, 16)] if len(series) > 1 else []
    for n, row in enumerate(rows):
        y = top + n * row_height
        tooltip = row.detail or f"{row.label}: {row.text}"
        parts.append(f'<g class="row" data-label="{esc(row.label)}"><title>{esc(tooltip)}</title>')
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end">'
            f"{esc(shorten(row.label, label_width // 7))}</text>"
        )
        x = float(label_width)
        for s, value in zip(series, row.values, strict=True):
            if value <= 0:
                continue
            w = max(1.0, value / largest * room)
            parts.append(
                f'<rect class="bar {s.css}" data-series="{esc(s.name)}" data-value="{value:.15g}" '
                f'x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_height - 8}" rx="2"/>'
            )
            x += w
        parts.append(f'<text class="value" x="{x + 6:.1f}" y="{y + 16}">{esc(row.text)}</text></g>')
    height = top + len(rows) * row_height + 6
    baseline = f'<line class="baseline" x1="{label_width}" x2="{label_width}" y1="{top}" '
    baseline += f'y2="{height - 6}"/>'
    return _svg(chart_id, width, height, title, "".join(parts) + baseline)


def _ticks(largest: float) -> list[float]:
    """0 and round steps (1, 2 or 5 times a power of ten) up to at least `largest`."""
    if largest <= 0:
        return [0.0, 1.0]
    rough = largest / 4
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    step = max(step, 1.0)
    return [k * step for k in range(math.ceil(largest / step) + 1)]


def grouped_columns(
    groups: Sequence[str],
    series: Sequence[tuple[Series, Sequence[int]]],
    *,
    chart_id: str,
    title: str,
    width: int = 560,
    height: int = 300,
) -> str:
    """Vertical columns: for each group, one column per series, side by side."""
    left, right, top, bottom = 52, 10, 30, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = _ticks(max((v for _, values in series for v in values), default=0))
    scale = plot_h / ticks[-1]
    parts = [_legend([s for s, _ in series], left, 16)]
    for tick in ticks:
        y = top + plot_h - tick * scale
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{compact(tick)}</text>"
        )
    slot = plot_w / max(1, len(groups))
    column = min(28.0, (slot - 12) / max(1, len(series)))
    for g, label in enumerate(groups):
        x0 = left + g * slot + (slot - column * len(series)) / 2
        for k, (s, values) in enumerate(series):
            value = values[g]
            h = value * scale
            x, y = x0 + k * column, top + plot_h - h
            parts.append(
                f'<rect class="bar {s.css}" data-series="{esc(s.name)}" data-value="{value}" '
                f'x="{x:.1f}" y="{y:.1f}" width="{column - 2:.1f}" height="{h:.1f}">'
                f"<title>{esc(s.name)}, {esc(label)}: {value:,}</title></rect>"
            )
            if value:
                parts.append(
                    f'<text class="value" x="{x + (column - 2) / 2:.1f}" y="{y - 4:.1f}" '
                    f'text-anchor="middle">{compact(value)}</text>'
                )
        parts.append(
            f'<text x="{left + g * slot + slot / 2:.1f}" y="{top + plot_h + 18}" '
            f'text-anchor="middle">{esc(label)}</text>'
        )
    parts.append(
        f'<line class="baseline" x1="{left}" x2="{width - right}" '
        f'y1="{top + plot_h}" y2="{top + plot_h}"/>'
    )
    return _svg(chart_id, width, height, title, "".join(parts))
