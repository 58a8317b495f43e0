"""PNG charts of the trend reports (matplotlib, Agg canvas: no display, no pyplot state).

Labels are the report's English title and column names: the default fonts hold no Chinese
glyphs, and a chart should not depend on which CJK fonts a server happens to have.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from app.reports.registry import ChartSpec, ReportSpec


def monthly_series(
    spec: ChartSpec, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> tuple[list[str], dict[str, list[float]]]:
    """The x values in order and, per series, their sums over rows sharing an x value."""
    index = {name: i for i, name in enumerate(columns)}
    names = [*spec.bars, *([spec.line] if spec.line else [])]
    sums: dict[str, dict[str, float]] = {name: {} for name in names}
    for row in rows:
        x = str(row[index[spec.x]])
        for name in names:
            value = row[index[name]]
            number = float(value) if isinstance(value, int | float | Decimal) else 0.0
            sums[name][x] = sums[name].get(x, 0.0) + number
    xs = sorted({x for series in sums.values() for x in series})
    return xs, {name: [sums[name].get(x, 0.0) for x in xs] for name in names}


def render_chart(report: ReportSpec, rows: Iterable[Sequence[Any]]) -> bytes:
    """The report's chart as PNG bytes. ``rows`` follow ``report.columns``.

    Raises ValueError when the report has no chart.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    spec = report.chart
    if spec is None:
        raise ValueError(f"report {report.name!r} has no chart")
    xs, series = monthly_series(spec, report.column_names, rows)
    figure = Figure(figsize=(10, 5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(xs)))
    width = 0.8 / max(len(spec.bars), 1)
    for i, name in enumerate(spec.bars):
        offset = (i - (len(spec.bars) - 1) / 2) * width
        axes.bar([p + offset for p in positions], series[name], width=width, label=name)
    axes.set_ylabel(spec.y_label)
    axes.set_xlabel(spec.x)
    handles, labels = axes.get_legend_handles_labels()
    if spec.line:
        right = axes.twinx()
        (line,) = right.plot(positions, series[spec.line], color="black", marker="o")
        right.set_ylabel(spec.line_label or spec.line)
        handles.append(line)
        labels.append(spec.line)
    axes.set_xticks(positions, xs, rotation=45, ha="right")
    if not xs:
        axes.text(0.5, 0.5, "no data", ha="center", va="center", transform=axes.transAxes)
    axes.set_title(report.title_en)
    if handles:
        axes.legend(handles, labels, loc="upper left")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
