"""Charts of a topic's papers: DataFrame (topic_report.frame schema) → matplotlib Figure → SVG.

Figures are built on `matplotlib.figure.Figure` (no pyplot state, so Jupyter never shows one
twice). Text from arXiv (author names, categories) is drawn as given: mathtext is off, so a
name like `$\\alpha$` is neither interpreted nor able to crash the drawing.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta

import matplotlib
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from topic_report.taxonomy import is_category, labelled

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
PARTIAL_COLOR = "#9ec5dc"
CROSS_LIST_COLOR = "#a9cce3"
LABEL_CHARS = 40
CATEGORY_LABEL_CHARS = 56
MAX_TICKS = 8
# One date format on every chart and the page: ISO 8601 (a month is YYYY-MM).
DAY_FORMAT, MONTH_FORMAT = "%Y-%m-%d", "%Y-%m"


@dataclass(frozen=True)
class Period:
    """A time bin: pandas frequency (bins start on their label: a day, a Monday, the first of a
    month or quarter), its name, and how its ticks are written."""

    freq: str
    unit: str
    date_format: str

    def end(self, start: pd.Timestamp) -> pd.Timestamp:
        """The first moment after the bin that starts at `start`."""
        return start + pd.tseries.frequencies.to_offset(self.freq)


DAY, WEEK = Period("D", "day", DAY_FORMAT), Period("W-MON", "week", DAY_FORMAT)
MONTH, QUARTER = Period("MS", "month", MONTH_FORMAT), Period("QS", "quarter", MONTH_FORMAT)
# (longest span, period): the finest bin that keeps a chart readable.
PERIODS = ((timedelta(days=92), DAY), (timedelta(days=3 * 365), WEEK), (timedelta.max, MONTH))


# Every public function draws inside the style, since matplotlib reads most settings when
# text and ticks are created (some only when the figure is saved).
styled = matplotlib.rc_context(STYLE)


def _figure(height: float | None = None) -> tuple[Figure, matplotlib.axes.Axes]:
    width, default_height = STYLE["figure.figsize"]
    figure = Figure(figsize=(width, height or default_height), layout="constrained")
    return figure, figure.add_subplot()


def _label(text: str, chars: int = LABEL_CHARS) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _days(frame: pd.DataFrame) -> pd.Series:
    """Submission day of each paper (UTC, as naive timestamps for matplotlib)."""
    return frame["published"].dt.tz_convert(None).dt.normalize()


def period(frame: pd.DataFrame) -> Period:
    """The time bins that suit the frame's span."""
    days = _days(frame)
    span = days.max() - days.min()
    return next(chosen for longest, chosen in PERIODS if span <= longest)


def _binned(frame: pd.DataFrame, chosen: Period) -> pd.Series:
    """Papers per bin, every bin from the first paper's to the last's (empty ones as 0)."""
    return _days(frame).value_counts().resample(chosen.freq, label="left", closed="left").sum()


def _is_partial(chosen: Period, last_start: pd.Timestamp, as_of: datetime | None) -> bool:
    """Whether the last bin was still running when the data were fetched."""
    if as_of is None:
        return False
    return chosen.end(last_start) > pd.Timestamp(as_of).tz_convert(None)


def _ticks(axes, positions: list, labels: list[str], axis: str = "x") -> None:
    """At most MAX_TICKS ticks, evenly picked from the given positions (bar centres or days): never
    an hour tick on daily data, always the one date format."""
    step = max(1, -(-len(positions) // MAX_TICKS))
    chosen = list(range(len(positions) - 1, -1, -step))[::-1]  # keep the newest one
    getattr(axes, f"set_{axis}ticks")([positions[i] for i in chosen], [labels[i] for i in chosen])


@styled
def papers_per_period(frame: pd.DataFrame, as_of: datetime | None = None) -> Figure:
    """Bars of papers submitted per day, week or month (whichever suits the span), each centred on
    its period; the last one marked when the period was not over at `as_of` (the last fetch)."""
    chosen = period(frame)
    counts = _binned(frame, chosen)
    starts = list(counts.index)
    ends = [chosen.end(start) for start in starts]
    centres = [start + (end - start) / 2 for start, end in zip(starts, ends, strict=False)]
    widths = [(end - start) / pd.Timedelta(days=1) * 0.8 for start, end in zip(starts, ends, strict=False)]
    partial = _is_partial(chosen, starts[-1], as_of)
    colors = [COLOR] * len(starts)
    figure, axes = _figure()
    if partial:
        colors[-1] = PARTIAL_COLOR
    bars = axes.bar(centres, counts.to_numpy(), width=widths, color=colors, align="center")
    if partial:
        bars[-1].set_hatch("///")
        bars[-1].set_edgecolor(COLOR)
        bars[-1].set_label(f"{chosen.unit} not over at the last fetch ({pd.Timestamp(as_of):%Y-%m-%d})")
        axes.legend(loc="upper left", frameon=False)
    axes.set_title(f"Papers per {chosen.unit}")
    axes.set_xlabel({"day": "Submission date (UTC)", "week": "Week of submission, starting Monday (UTC)",
                     "month": "Month of submission (UTC)"}[chosen.unit])
    axes.set_ylabel("Papers")
    _ticks(axes, centres, [start.strftime(chosen.date_format) for start in starts])
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="x", visible=False)
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
    chosen = period(frame)
    starts = list(pd.date_range(totals.index.min(), totals.index.max(), freq=chosen.freq)) or [totals.index.min()]
    _ticks(axes, starts, [start.strftime(chosen.date_format) for start in starts])
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    return figure


def _ranked_rows(labels: list[str], title: str, height: float, chars: int = LABEL_CHARS
                 ) -> tuple[Figure, matplotlib.axes.Axes]:
    """Axes for horizontal bars of papers, one row per label (bottom to top); the caller draws them."""
    figure, axes = _figure(height=height)
    axes.set_yticks(range(len(labels)), [_label(text, chars) for text in labels])
    axes.set_title(title)
    axes.set_xlabel("Papers")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", visible=False)
    return figure, axes


AUTHOR_TIES = "ties: the more recent paper first"


def ranked_authors(frame: pd.DataFrame, limit: int) -> list[tuple[str, int]]:
    """The `limit` authors with the most papers, among those with at least two (a ranking of
    one-paper authors says nothing); ties go to the author whose latest paper is newer, then by name."""
    rows = frame[["authors", "published"]].explode("authors").dropna(subset=["authors"])
    stats = rows.groupby("authors")["published"].agg(["size", "max"])
    stats = stats[stats["size"] >= 2]
    ranked = sorted(stats.itertuples(), key=lambda row: (-row.size, -row.max.value, row.Index))[:limit]
    return [(row.Index, int(row.size)) for row in ranked]


@styled
def top_authors(frame: pd.DataFrame, limit: int) -> Figure | None:
    """Horizontal bars of the authors with the most papers (see `ranked_authors`); None when no
    author has two papers."""
    ranked = ranked_authors(frame, limit)
    if not ranked:
        return None
    figure, axes = _ranked_rows([name for name, _ in ranked][::-1],
                                f"Most prolific authors (top {len(ranked)}; {AUTHOR_TIES})",
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
    """Per arXiv category, named: papers listing it as primary, and papers cross-listed to it
    (ACM and MSC classes, which arXiv lists among the categories, left out)."""
    primary = frame["primary_category"].value_counts()
    listed = frame["categories"].explode().dropna().value_counts()
    listed = listed[[is_category(code) for code in listed.index]]
    cross = listed.sub(primary, fill_value=0).clip(lower=0)
    total = primary.add(cross, fill_value=0)
    order = sorted(total.index, key=lambda c: (-total[c], c))[:limit][::-1]
    figure, axes = _ranked_rows([labelled(code) for code in order], "Categories: primary and cross-lists",
                                height=max(2.4, 0.8 + 0.28 * len(order)), chars=CATEGORY_LABEL_CHARS)
    rows = range(len(order))
    primary_counts = [primary.get(c, 0) for c in order]
    axes.barh(rows, primary_counts, color=COLOR, label="primary category")
    axes.barh(rows, [cross.get(c, 0) for c in order], left=primary_counts, color=CROSS_LIST_COLOR,
              label="cross-list")
    axes.legend(loc="lower right", frameon=False)
    return figure


TERM_LINES = 6
TERM_MIN_PAPERS = 10


def term_period(frame: pd.DataFrame) -> Period:
    """The bins of a chart of terms over time: weeks up to three months, months up to two years, then
    quarters (days would draw a zigzag of few papers each)."""
    days = _days(frame)
    span = days.max() - days.min()
    return WEEK if span <= timedelta(days=92) else MONTH if span <= timedelta(days=2 * 365) else QUARTER


def merged_terms(matched: pd.Series) -> pd.Series:
    """Matched terms, one per paper and term (index: the paper's row), with terms that match exactly
    the same papers merged into one, "a / b": their lines would lie on top of each other."""
    papers: dict[str, set] = {}
    for row, term in matched.items():
        papers.setdefault(term, set()).add(row)
    alike: dict[frozenset, list[str]] = {}
    for term, rows in papers.items():
        alike.setdefault(frozenset(rows), []).append(term)
    label = {term: " / ".join(terms) for terms in alike.values() for term in terms}
    pairs = pd.DataFrame({"row": matched.index, "term": matched.map(label).to_numpy()}).drop_duplicates()
    return pd.Series(pairs["term"].to_numpy(), index=pairs["row"].to_numpy(), dtype="object")


def term_shares(frame: pd.DataFrame, chosen: Period, limit: int = TERM_LINES,
                min_papers: int = TERM_MIN_PAPERS) -> pd.DataFrame:
    """Per period (rows) and term (columns, the `limit` most matched; terms matching the same papers
    merged), the share of the period's papers that matched the term, in percent, for periods of at
    least `min_papers` papers; from the frame's `matched_terms` column."""
    starts = _days(frame).dt.to_period(chosen.freq[0]).dt.start_time
    matched = merged_terms(frame["matched_terms"].explode().dropna())
    top = matched.value_counts().head(limit).index
    every = pd.date_range(starts.min(), starts.max(), freq=chosen.freq)
    papers = starts.groupby(starts).size().reindex(every, fill_value=0)
    per_term = pd.crosstab(starts.loc[matched.index].to_numpy(), matched.to_numpy()).reindex(
        index=every, columns=top, fill_value=0)
    # A period with too few papers has no share worth drawing (NaN): its line has a gap rather than
    # a false zero or a 100 % from one paper; such periods before the first and after the last
    # counted one are left out.
    shares = per_term.div(papers.where(papers >= min_papers), axis=0).mul(100)
    counted = shares.index[papers >= min_papers]
    return shares.loc[counted.min():counted.max()] if len(counted) else shares.iloc[0:0]


@styled
def terms_over_time(frame: pd.DataFrame, as_of: datetime | None = None) -> Figure | None:
    """Lines of each term's share of the papers per month (per quarter beyond two years); None when
    no paper has matched terms. A last period not over at `as_of` is drawn dashed."""
    if not frame["matched_terms"].map(bool).any():
        return None
    chosen = term_period(frame)
    shares = term_shares(frame, chosen)
    if shares.empty:
        return None
    centres = [start + (chosen.end(start) - start) / 2 for start in shares.index]
    partial = len(centres) > 1 and _is_partial(chosen, shares.index[-1], as_of)
    figure, axes = _figure(height=3.8)
    for term in shares.columns:
        values = shares[term].to_numpy()
        solid = len(values) - 1 if partial else len(values)
        line, = axes.plot(centres[:solid], values[:solid], marker="o", markersize=3.5, linewidth=1.8,
                          label=_label(term))
        if partial:
            axes.plot(centres[-2:], values[-2:], linestyle=":", marker="o", markersize=3.5, fillstyle="none",
                      color=line.get_color())
    axes.set_title(f"Terms over time: share of each {chosen.unit}'s papers")
    axes.set_xlabel(f"{chosen.unit.capitalize()} of submission (UTC); {chosen.unit}s of fewer than "
                    f"{TERM_MIN_PAPERS} papers left out" + ("; dotted: not over at the last fetch" if partial else ""))
    axes.set_ylabel("Papers matching the term (%)")
    axes.set_ylim(bottom=0)
    labels = [f"{start:%Y} Q{start.quarter}" if chosen is QUARTER else start.strftime(chosen.date_format)
              for start in shares.index]
    _ticks(axes, centres, labels)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8.5)
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
