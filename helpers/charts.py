"""Charts of a topic's papers: DataFrame (helpers.frame schema) → matplotlib Figure → SVG.

Figures are built on `matplotlib.figure.Figure` (no pyplot state, so Jupyter never shows one
twice). Text from arXiv (author names, categories) is drawn as given: mathtext is off, so a
name like `$\\alpha$` is neither interpreted nor able to crash the drawing.
"""

from __future__ import annotations

import io
import warnings
from datetime import timedelta

import matplotlib
import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

STYLE = {
    "text.parse_math": False,       # untrusted labels: `$…$` stays literal
    "svg.fonttype": "none",         # text stays text: lighter, sharp, searchable
    "svg.hashsalt": "topic-report",  # stable element ids, so unchanged charts give unchanged SVG
    "figure.figsize": (8.0, 3.4),
    "figure.dpi": 100,
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e3e3e3",
}
COLOR = "#2a6f97"
CROSS_LIST_COLOR = "#a9cce3"
LABEL_CHARS = 40

# (longest span, pandas frequency, unit, bar width in days): the finest bin that keeps a chart
# readable. Bins start on their label (a day, a Monday, the first of a month).
PERIODS = (
    (timedelta(days=92), "D", "day", 0.8),
    (timedelta(days=3 * 365), "W-MON", "week", 6),
    (timedelta.max, "MS", "month", 26),
)


# Every public function draws inside the style, since matplotlib reads most settings when
# text and ticks are created (some only when the figure is saved).
styled = matplotlib.rc_context(STYLE)


def _figure(height: float | None = None) -> tuple[Figure, matplotlib.axes.Axes]:
    width, default_height = STYLE["figure.figsize"]
    figure = Figure(figsize=(width, height or default_height), layout="constrained")
    return figure, figure.add_subplot()


def _label(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _days(frame: pd.DataFrame) -> pd.Series:
    """Submission day of each paper (UTC, as naive timestamps for matplotlib)."""
    return frame["published"].dt.tz_convert(None).dt.normalize()


def period(frame: pd.DataFrame) -> tuple[str, str, float]:
    """(pandas frequency, unit name, bar width in days) of the time bins for the frame's span."""
    days = _days(frame)
    span = days.max() - days.min()
    return next(tuple(rest) for longest, *rest in PERIODS if span <= longest)


def _date_axis(axes) -> None:
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))


@styled
def papers_per_period(frame: pd.DataFrame) -> Figure:
    """Bars of papers submitted per day, week or month (whichever suits the span)."""
    freq, unit, width = period(frame)
    counts = _days(frame).value_counts().resample(freq, label="left", closed="left").sum()
    figure, axes = _figure()
    axes.bar(counts.index, counts.to_numpy(), width=width, align="edge", color=COLOR)
    axes.set_title(f"Papers per {unit}")
    axes.set_xlabel(f"Submission {'date' if unit == 'day' else unit} (UTC)")
    axes.set_ylabel("Papers")
    _date_axis(axes)
    return figure


@styled
def cumulative_papers(frame: pd.DataFrame) -> Figure:
    """Running total of papers by submission date."""
    totals = _days(frame).value_counts().sort_index().cumsum()
    figure, axes = _figure()
    axes.step(totals.index, totals.to_numpy(), where="post", color=COLOR, linewidth=1.8)
    axes.fill_between(totals.index, totals.to_numpy(), step="post", color=COLOR, alpha=0.12)
    axes.set_title("Cumulative papers")
    axes.set_xlabel("Submission date (UTC)")
    axes.set_ylabel("Papers (running total)")
    axes.set_ylim(bottom=0)
    _date_axis(axes)
    return figure


def _ranked_rows(labels: list[str], title: str, height: float) -> tuple[Figure, matplotlib.axes.Axes]:
    """Axes for horizontal bars of papers, one row per label (bottom to top); the caller draws them."""
    figure, axes = _figure(height=height)
    axes.set_yticks(range(len(labels)), [_label(text) for text in labels])
    axes.set_title(title)
    axes.set_xlabel("Papers")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", visible=False)
    return figure, axes


@styled
def top_authors(frame: pd.DataFrame, limit: int) -> Figure:
    """Horizontal bars of the `limit` authors with the most papers (ties by name)."""
    counts = frame["authors"].explode().dropna().value_counts()
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    figure, axes = _ranked_rows([name for name, _ in ranked][::-1], f"Most prolific authors (top {len(ranked)})",
                                height=max(2.4, 0.6 + 0.26 * len(ranked)))
    axes.barh(range(len(ranked)), [count for _, count in ranked][::-1], color=COLOR)
    return figure


@styled
def authors_per_paper(frame: pd.DataFrame, cap: int = 20) -> Figure:
    """Distribution of the number of authors per paper; `cap` or more share the last bar."""
    clipped = frame["n_authors"].clip(1, cap)
    counts = clipped.value_counts().reindex(range(1, int(clipped.max()) + 1), fill_value=0)
    figure, axes = _figure()
    axes.bar(counts.index, counts.to_numpy(), width=0.8, color=COLOR)
    ticks = list(counts.index)
    axes.set_xticks(ticks, [f"{n}+" if n == cap else str(n) for n in ticks])
    axes.set_title("Authors per paper")
    axes.set_xlabel("Authors on the paper")
    axes.set_ylabel("Papers")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="x", visible=False)
    return figure


@styled
def categories(frame: pd.DataFrame, limit: int = 12) -> Figure:
    """Per arXiv category: papers listing it as primary, and papers cross-listed to it."""
    primary = frame["primary_category"].value_counts()
    listed = frame["categories"].explode().dropna().value_counts()
    cross = listed.sub(primary, fill_value=0).clip(lower=0)
    total = primary.add(cross, fill_value=0)
    order = sorted(total.index, key=lambda c: (-total[c], c))[:limit][::-1]
    figure, axes = _ranked_rows(order, "Categories: primary and cross-lists",
                                height=max(2.4, 0.8 + 0.28 * len(order)))
    rows = range(len(order))
    primary_counts = [primary.get(c, 0) for c in order]
    axes.barh(rows, primary_counts, color=COLOR, label="primary category")
    axes.barh(rows, [cross.get(c, 0) for c in order], left=primary_counts, color=CROSS_LIST_COLOR,
              label="cross-list")
    axes.legend(loc="lower right", frameon=False)
    return figure


@styled
def svg(figure: Figure) -> str:
    """The figure as an SVG document (no creation date: the same chart gives the same bytes).

    Text stays text in the SVG, drawn by the browser's fonts, so matplotlib's warning that its own
    font lacks a glyph (李, 🦄) is moot; unsilenced it would print onto the report page.
    """
    buffer = io.StringIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning)
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
