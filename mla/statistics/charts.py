"""Charts as inline SVG drawn on the server: no script, nothing fetched, colours as
presentation attributes (the CSP forbids inline styles), legible in print. Each chart is a
picture of a table the page also shows, so the table is its accessible text."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH, BAR, GAP, LABEL = 640, 18, 6, 170
COLOURS = ("#1f5f8b", "#c2571a", "#5b8c2a", "#7a4f9a", "#8a6d00")


def bars(
    title: str, items: Sequence[tuple[str, Sequence[float | int | None]]], series: Sequence[str]
) -> Markup:
    """A horizontal bar chart: one group of bars per item (label, values per series)."""
    values = [v or 0 for _, vs in items for v in vs]
    top = max(values, default=0) or 1
    per_item = len(series) * BAR + GAP
    height = 30 + len(items) * per_item + 24
    plot = WIDTH - LABEL - 60
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    # The legend shares the plot's width, so that five age bands fit as well as two series.
    step = min(150, (WIDTH - LABEL) // max(1, len(series)))
    for i, name in enumerate(series):
        x = LABEL + i * step
        out.append(
            f'<rect x="{x}" y="4" width="12" height="12" fill="{COLOURS[i % len(COLOURS)]}"/>'
            f'<text x="{x + 16}" y="15" font-size="12">{escape(name)}</text>'
        )
    y = 30
    for label, vs in items:
        out.append(
            f'<text x="{LABEL - 6}" y="{y + per_item / 2}" font-size="12" '
            f'text-anchor="end">{escape(label)}</text>'
        )
        for i, v in enumerate(vs):
            w = round(plot * (v or 0) / top, 1)
            colour = COLOURS[i % len(COLOURS)]
            out.append(
                f'<rect x="{LABEL}" y="{y}" width="{w}" height="{BAR - 2}" fill="{colour}"/>'
                f'<text x="{LABEL + w + 4}" y="{y + BAR - 5}" font-size="11">'
                f"{'' if v is None else escape(str(v))}</text>"
            )
            y += BAR
        y += GAP
    out.append("</svg>")
    # Every text in it went through escape() above.
    return Markup("".join(out))  # noqa: S704
