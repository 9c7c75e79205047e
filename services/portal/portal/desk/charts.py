"""The dashboard's charts, drawn on the server as SVG by pygal and given to the page as images (data: URLs), so they
show without JavaScript, print, and need no exception to the page's Content-Security-Policy."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import pygal
from pygal.style import Style

# The portal's colours: dark red, green, amber, blue; large enough type to read on a projector and on paper.
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1b1b1b",
    foreground_strong="#1b1b1b",
    foreground_subtle="#4a4a4a",
    colors=("#8c1515", "#0b6b3a", "#8a4b00", "#0b4f9c"),
    font_family="Noto Sans, Segoe UI, Roboto, Arial, sans-serif",
    title_font_size=18,
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    value_font_size=13,
)
COMMON = {"style": STYLE, "js": [], "width": 900, "height": 380, "print_values": False, "margin": 20}


def whole_numbers(chart: pygal.Graph, highest: int) -> None:
    """Counts are whole: the axis says 0, 1, 2... (at most about ten steps), never 0.1."""
    step = max(1, -(-highest // 10))
    chart.y_labels = list(range(0, max(highest, 1) + step, step))
    chart.value_formatter = lambda v: f"{v:.0f}"


def data_url(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


def received_and_resolved(title: str, months: Sequence[str], series: dict[str, Sequence[int]]) -> str:
    chart = pygal.Bar(title=title, x_label_rotation=0, legend_at_bottom=True, **COMMON)
    chart.x_labels = list(months)
    for name, values in series.items():
        chart.add(name, list(values))
    whole_numbers(chart, max((v for values in series.values() for v in values), default=0))
    return data_url(chart.render())


def rate_over_time(title: str, months: Sequence[str], name: str, rates: Sequence[float | None]) -> str:
    chart = pygal.Line(title=title, range=(0, 100), legend_at_bottom=True, show_dots=True, **COMMON)
    chart.x_labels = list(months)
    chart.value_formatter = lambda v: f"{v:.0f}%"
    chart.add(name, [None if r is None else round(r * 100, 1) for r in rates])
    return data_url(chart.render())


def counts_by(title: str, name: str, counts: dict[str, int]) -> str:
    chart = pygal.HorizontalBar(title=title, show_legend=False, **COMMON)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:15]
    chart.x_labels = [label for label, _ in ordered]
    chart.add(name, [n for _, n in ordered])
    whole_numbers(chart, max(counts.values(), default=0))
    return data_url(chart.render())
