"""Drawing the card's charts as PNG images with matplotlib.

Figures are made with matplotlib.figure.Figure directly, never through pyplot: no global
figure registry to leak memory, no backend to select (saving a PNG renders with Agg), and
nothing that needs a display. The same chart and matplotlib version give the same bytes.

Margins are set from the label lengths rather than by a layout engine: constrained or
tight layout draws every figure twice, and text layout is most of a chart's cost.
"""

from __future__ import annotations

import io
import textwrap
from typing import Any, cast

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, FigureBase
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from pmc_pipeline.report.charts import Bars, Chart, Distribution

SIZE_INCHES = (5.6, 3.5)
DPI = 140  # 784 x 490 px: sharp when the grid shows a chart at about 400 px wide
COLORS = ["#3b6ea8", "#e0883a", "#5a9e6f", "#b5525c", "#8c6bb1"]
STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans",  # shipped with matplotlib: no system font lookup
    "font.size": 8.5,
    "figure.titlesize": 10.5,
    "figure.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.alpha": 0.35,
    "legend.frameon": False,
}
HIST_BINS = 40
CHAR_INCHES = 0.6 * STYLE["font.size"] / 72  # the width of an average character
LABEL_CHARS = 34  # longer category labels (journal titles) are shortened on the axis
MAX_TICK_LABELS = 24  # more categories than this: only every n-th is labelled


def render_png(chart: Chart) -> bytes:
    """The chart as PNG bytes."""
    with mpl.rc_context(STYLE):  # type: ignore[arg-type]  # its keys are rc names
        fig = Figure(figsize=SIZE_INCHES, dpi=DPI)
        ax = fig.add_subplot()
        # Titles at the figure's left edge, not the axes', so they line up across the grid
        # whatever the width of the category labels.
        fig.suptitle(chart.title, x=0.1 / SIZE_INCHES[0], y=0.985, ha="left", va="top")
        if isinstance(chart, Bars):
            _draw_bars(ax, chart)
        else:
            _draw_distribution(ax, chart)
        buf = io.BytesIO()
        # No 'Software' text chunk: the bytes then depend on the chart, not on the version
        # string of the matplotlib that drew it.
        fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _draw_bars(ax: Axes, chart: Bars) -> None:
    if not chart.labels:
        _no_data(ax)
        return
    positions = np.arange(len(chart.labels))
    base = np.zeros(len(chart.labels))
    for color, (name, values) in zip(COLORS, chart.series.items(), strict=False):
        if chart.horizontal:
            bars = ax.barh(positions, values, color=color, label=name, left=base)
        else:
            bars = ax.bar(positions, values, color=color, label=name, bottom=base)
        base = base + np.asarray(values)
    if len(chart.labels) <= 16:  # totals on the bars, while they fit
        ax.bar_label(bars, labels=[f"{int(v):,}" for v in base], padding=2, fontsize=7.5)
    labels = [textwrap.shorten(label, LABEL_CHARS, placeholder="…") for label in chart.labels]
    step = max(1, -(-len(labels) // MAX_TICK_LABELS))
    longest = max(len(label) for label in labels) * CHAR_INCHES
    if chart.horizontal:
        _margins(ax.figure, left=0.25 + longest)
        ax.set_yticks(positions[::step], labels[::step])
        ax.invert_yaxis()  # the largest first, at the top
        ax.set_xlabel(chart.axis)
        ax.grid(axis="y", visible=False)
        ax.margins(x=0.12)
    else:
        axis_inches = SIZE_INCHES[0] - 0.8
        rotated = sum(len(label) + 2 for label in labels[::step]) * CHAR_INCHES > axis_inches
        _margins(ax.figure, bottom=0.45 + (0.7 * longest if rotated else 0))
        ax.set_xticks(
            positions[::step],
            labels[::step],
            rotation=45 if rotated else 0,
            ha="right" if rotated else "center",
            rotation_mode="anchor",
        )
        ax.set_ylabel(chart.axis)
        ax.grid(axis="x", visible=False)
        ax.margins(y=0.12)
    if len(chart.series) > 1:
        ax.legend(loc="lower right" if chart.horizontal else "upper right")


def _margins(fig: FigureBase, left: float = 0.6, bottom: float = 0.45) -> None:
    """Fixed margins, in inches (axis labels and ticks need about 0.45-0.6 in)."""
    width, height = cast(Figure, fig).get_size_inches()  # the axes' figure, not a subfigure
    fig.subplots_adjust(
        left=min(left, width * 0.5) / width,
        bottom=min(bottom, height * 0.5) / height,
        right=1 - 0.2 / width,
        top=1 - 0.35 / height,
    )


def _draw_distribution(ax: Axes, chart: Distribution) -> None:
    _margins(ax.figure)
    present = {name: v for name, v in chart.series.items() if len(v)}
    if not present:
        _no_data(ax)
        return
    low = min(v.min() for v in present.values())
    high = max(v.max() for v in present.values())
    bins = _bins(low, high, chart.log)
    alpha = 0.6 if len(present) > 1 else 0.9
    for color, (name, values) in zip(COLORS, present.items(), strict=False):
        label = f"{name} ({len(values):,})"
        ax.hist(values, bins=bins, color=color, alpha=alpha, label=label)  # type: ignore[arg-type]
    if chart.log:
        ax.set_xscale("log")
        # Ticks at 1, 2, 3, 5 x 10^n written as plain numbers, not as 2x10^1.
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 3.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    # Filter thresholds are drawn only near the data: a cap far beyond every value would
    # squash the histogram into a corner (the table under the chart lists them all).
    for style, (name, value) in zip(("--", ":", "-."), chart.markers.items(), strict=False):
        if low / 2 <= value <= high * 2:
            ax.axvline(
                value, color="#444444", linestyle=style, linewidth=1, label=f"{name} = {value:g}"
            )
    ax.set_xlabel(chart.axis)
    ax.set_ylabel("count")
    ax.legend(loc="upper right")


def _bins(low: float, high: float, log: bool) -> np.ndarray:
    if log:
        low = max(low, 1e-3)  # log bins need a positive start (a zero-word caption)
        if high <= low:
            high = low * 1.5
        return np.geomspace(low, high, HIST_BINS + 1)
    if high <= low:
        return np.linspace(low - 0.5, high + 0.5, 2)
    return np.linspace(low, high, HIST_BINS + 1)


def _no_data(ax: Axes) -> None:
    _margins(ax.figure)
    ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="#888888")
    ax.set_xticks([])
    ax.set_yticks([])
