"""Charts of a topic's papers: DataFrame (topic_report.frame schema) → matplotlib Figure → SVG.

Figures are built on `matplotlib.figure.Figure` (no pyplot state, so Jupyter never shows one
twice). Text from arXiv (author names, categories) is drawn as given: mathtext is off, so a
name like `$\\alpha$` is neither interpreted nor able to crash the drawing.

Each chart is drawn twice: for a wide screen, and for a phone (`PHONE`: half the width, in the
same proportions, with fewer ticks, rows and lines and shorter labels), and `svg` ships both in one
document. A page shows a chart as an image no wider than its column, so on a phone the wide
drawing would shrink to under half its size (labels 5 px tall); the document's own style shows
the phone drawing wherever it is shown at most `PHONE_UP_TO` pixels wide, where its labels are
twice as large as the wide one's would be.
"""

from __future__ import annotations

import functools
import io
import textwrap
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import matplotlib
import pandas as pd
from lxml import etree
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from topic_report.arxiv.query import words
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


@dataclass(frozen=True)
class Layout:
    """How a chart is drawn for one kind of screen."""

    width: float              # inches; heights are given for WIDE and kept in proportion
    max_ticks: int            # date ticks along x
    count_ticks: int | None   # ticks of an axis of counts (None: as many as matplotlib finds room for)
    label_chars: int          # author names cut to this
    term_chars: int           # terms in the legend of the terms chart cut to this (then wrapped as axis labels)
    category_chars: int       # "cs.CV · Computer Vision and Pattern Recognition" cut to this
    rows: int | None          # at most this many rows of a ranked chart, lines of the terms chart (None: as asked)
    wrap: int | None          # axis labels wrap at this many characters (None: one line)
    title_wrap: int | None    # titles, in bold and larger, at this many

    @property
    def phone(self) -> bool:
        return self is PHONE


WIDE = Layout(width=8.0, max_ticks=MAX_TICKS, count_ticks=None, label_chars=40, term_chars=40, category_chars=56,
              rows=None, wrap=None, title_wrap=None)
# Half the width, same proportions: drawn at the font sizes of WIDE, so scaled to the same box every
# text, line and mark shows twice as large. Shown at 342 px (a 390 px phone's column), a tick label
# of 9.5 pt is 11 px tall. Labels wrap or are cut to fit its 4 inches.
PHONE = Layout(width=4.0, max_ticks=3, count_ticks=4, label_chars=22, term_chars=90, category_chars=24, rows=8,
               wrap=50, title_wrap=42)
# Up to this rendered width (CSS px) a chart shows its phone drawing: above it the wide drawing's
# 9.5 pt tick labels are at least 10 px tall.
PHONE_UP_TO = 640
PHONE_TERM_LINES = 4


class Chart(Figure):
    """A chart drawn for a wide screen, with the same chart drawn for a phone (`phone`, set by `charted`)."""

    phone: Figure | None = None


# Every public function draws inside the style, since matplotlib reads most settings when
# text and ticks are created (some only when the figure is saved).
styled = matplotlib.rc_context(STYLE)


def charted(draw: Callable[..., Chart | None]) -> Callable[..., Chart | None]:
    """A chart function from one that draws the chart for a `layout`: the wide drawing, carrying the phone one."""
    @functools.wraps(draw)
    @styled
    def both(*args, **kwargs) -> Chart | None:
        wide = draw(*args, layout=WIDE, **kwargs)
        if wide is not None:
            wide.phone = draw(*args, layout=PHONE, **kwargs)
        return wide
    return both


def _figure(layout: Layout, height: float) -> tuple[Chart, matplotlib.axes.Axes]:
    """A figure `height` inches tall at the wide layout's width, in proportion at `layout`'s."""
    scale = layout.width / WIDE.width
    figure = Chart(figsize=(layout.width, height * scale), layout="constrained")
    return figure, figure.add_subplot()


def _label(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _wrapped(text: str, chars: int | None) -> str:
    return textwrap.fill(text, chars) if chars else text


def _counts(axis, layout: Layout) -> None:
    """Whole numbers only along an axis of counts, as many as the layout has room for."""
    axis.set_major_locator(MaxNLocator(integer=True, nbins=layout.count_ticks or "auto"))


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


def _ticks(axes, positions: list, labels: list[str], max_ticks: int) -> None:
    """At most `max_ticks` ticks along x, evenly picked from the given positions (bar centres, days
    or counts): never an hour tick on daily data, always the one date format."""
    step = max(1, -(-len(positions) // max_ticks))
    chosen = list(range(len(positions) - 1, -1, -step))[::-1]  # keep the newest one
    axes.set_xticks([positions[i] for i in chosen], [labels[i] for i in chosen])


def _titled(axes, layout: Layout, title: str, xlabel: str, ylabel: str | None = None, title_chars: int | None = None
            ) -> None:
    """Title and axis labels; the title wrapped at `title_chars`. On a phone the title starts at the
    figure's left edge, wrapped to its width: over the axes, beside long row labels, it would have half
    of it. (A wide chart's title stays the axes' own: a page's alt text reads it there.)"""
    if layout.phone:
        axes.figure.suptitle(_wrapped(title, layout.title_wrap), x=0.01, ha="left",
                             fontsize=STYLE["axes.titlesize"], fontweight=STYLE["axes.titleweight"])
    else:
        axes.set_title(_wrapped(title, title_chars))
    axes.set_xlabel(_wrapped(xlabel, layout.wrap))
    if ylabel:
        axes.set_ylabel(ylabel)


TIME_CHART_HEIGHT = 4.0  # inches at the wide width: at a phone's, 2 inches hold title, plot and labels


@charted
def papers_per_period(frame: pd.DataFrame, as_of: datetime | None = None, *, layout: Layout) -> Chart:
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
    figure, axes = _figure(layout, TIME_CHART_HEIGHT)
    if partial:
        colors[-1] = PARTIAL_COLOR
    bars = axes.bar(centres, counts.to_numpy(), width=widths, color=colors, align="center")
    if partial:
        bars[-1].set_hatch("///")
        bars[-1].set_edgecolor(COLOR)
        bars[-1].set_label(f"{chosen.unit} not over at the last fetch ({pd.Timestamp(as_of):%Y-%m-%d})")
        if layout.phone:  # across the axes it would cover the bars
            figure.legend(loc="outside lower left", frameon=False)
        else:
            axes.legend(loc="upper left", frameon=False)
    _titled(axes, layout, f"Papers per {chosen.unit}",
            {"day": "Submission date (UTC)", "week": "Week of submission, starting Monday (UTC)",
             "month": "Month of submission (UTC)"}[chosen.unit], "Papers")
    _ticks(axes, centres, [start.strftime(chosen.date_format) for start in starts], layout.max_ticks)
    _counts(axes.yaxis, layout)
    axes.grid(axis="x", visible=False)
    return figure


@charted
def cumulative_papers(frame: pd.DataFrame, *, layout: Layout) -> Chart:
    """Running total of papers by submission date."""
    totals = _days(frame).value_counts().sort_index().cumsum()
    figure, axes = _figure(layout, TIME_CHART_HEIGHT)
    axes.step(totals.index, totals.to_numpy(), where="post", color=COLOR, linewidth=1.8)
    axes.fill_between(totals.index, totals.to_numpy(), step="post", color=COLOR, alpha=0.12)
    # On a phone the y axis is too short for the longer label.
    _titled(axes, layout, "Cumulative papers", "Submission date (UTC)",
            "Papers in all" if layout.phone else "Papers (running total)")
    axes.set_ylim(bottom=0)
    chosen = period(frame)
    starts = list(pd.date_range(totals.index.min(), totals.index.max(), freq=chosen.freq)) or [totals.index.min()]
    _ticks(axes, starts, [start.strftime(chosen.date_format) for start in starts], layout.max_ticks)
    _counts(axes.yaxis, layout)
    return figure


def _ranked_rows(labels: list[str], title: str, height: float, chars: int, layout: Layout
                 ) -> tuple[Chart, matplotlib.axes.Axes]:
    """Axes for horizontal bars of papers, one row per label (bottom to top); the caller draws them."""
    figure, axes = _figure(layout, height)
    shown = [_label(text, chars) for text in labels]
    axes.set_yticks(range(len(labels)), shown)
    # A wide title starts over the axes, right of the longest label: wrapped to the width left
    # (in characters of the title's bold 11 pt, 6.5 pt at most; of the labels' 9.5 pt, 6 pt at most).
    left = layout.width * 72 - 6 * max(map(len, shown), default=0) - 20
    _titled(axes, layout, title, "Papers", title_chars=int(left / 6.5))
    _counts(axes.xaxis, layout)
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


# On a phone a row of bars takes this many inches (its label's 9.5 pt and a gap), and title, axis
# and legend these.
PHONE_ROW, PHONE_ROWS_BASE = 0.18, 1.15


def _rows_height(rows: int, per_row: float, base: float) -> float:
    """Height at the wide width of a chart of this many rows of bars, so that the wide drawing has
    `per_row` inches a row and the phone drawing, in the same proportions, room for its rows."""
    phone = (PHONE_ROWS_BASE + PHONE_ROW * min(rows, PHONE.rows)) * WIDE.width / PHONE.width
    return max(2.4, base + per_row * rows, phone)


@charted
def top_authors(frame: pd.DataFrame, limit: int, *, layout: Layout) -> Chart | None:
    """Horizontal bars of the authors with the most papers (see `ranked_authors`); None when no
    author has two papers. On a phone the first `PHONE.rows` of them, in the wide chart's height."""
    ranked = ranked_authors(frame, limit)
    if not ranked:
        return None
    height = _rows_height(len(ranked), 0.26, 0.6)
    ranked = ranked[: layout.rows or limit]
    figure, axes = _ranked_rows([name for name, _ in ranked][::-1],
                                f"Most prolific authors (top {len(ranked)}; {AUTHOR_TIES})",
                                height, layout.label_chars, layout)
    axes.barh(range(len(ranked)), [count for _, count in ranked][::-1], color=COLOR)
    return figure


@charted
def authors_per_paper(frame: pd.DataFrame, cap: int = 20, *, layout: Layout) -> Chart:
    """Distribution of the number of authors per paper; `cap` or more share the last bar."""
    clipped = frame["n_authors"].clip(1, cap)
    counts = clipped.value_counts().reindex(range(1, int(clipped.max()) + 1), fill_value=0)
    figure, axes = _figure(layout, TIME_CHART_HEIGHT)
    axes.bar(counts.index, counts.to_numpy(), width=0.8, color=COLOR)
    ticks = list(counts.index)
    # Every count on a wide screen; on a phone some, always the last ("20+").
    _ticks(axes, ticks, [f"{n}+" if n == cap else str(n) for n in ticks], layout.count_ticks or cap)
    _titled(axes, layout, "Authors per paper", "Authors on the paper", "Papers")
    _counts(axes.yaxis, layout)
    axes.grid(axis="x", visible=False)
    return figure


@charted
def categories(frame: pd.DataFrame, limit: int = 12, *, layout: Layout) -> Chart:
    """Per arXiv category, named: papers listing it as primary, and papers cross-listed to it
    (ACM and MSC classes, which arXiv lists among the categories, left out)."""
    primary = frame["primary_category"].value_counts()
    listed = frame["categories"].explode().dropna().value_counts()
    listed = listed[[is_category(code) for code in listed.index]]
    cross = listed.sub(primary, fill_value=0).clip(lower=0)
    total = primary.add(cross, fill_value=0)
    ranked = sorted(total.index, key=lambda c: (-total[c], c))[:limit]
    height = _rows_height(len(ranked), 0.28, 0.8)
    order = ranked[: layout.rows or limit][::-1]
    figure, axes = _ranked_rows([labelled(code) for code in order], "Categories: primary and cross-lists",
                                height, layout.category_chars, layout)
    rows = range(len(order))
    primary_counts = [primary.get(c, 0) for c in order]
    axes.barh(rows, primary_counts, color=COLOR, label="primary category")
    axes.barh(rows, [cross.get(c, 0) for c in order], left=primary_counts, color=CROSS_LIST_COLOR,
              label="cross-list")
    if layout.phone:  # in the axes it would cover the short bars
        figure.legend(loc="outside lower left", frameon=False, ncols=2)
    else:
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


def _plural_of(term: str, other: str) -> bool:
    """Whether `term` is `other` with its last word in the plural ("point clouds", "point cloud"), as
    the topic matches words (any case; "3D-shapes" is "3D shapes")."""
    mine, theirs = words(term), words(other)
    return (len(mine) == len(theirs) > 0 and mine[:-1] == theirs[:-1]
            and mine[-1] in (theirs[-1] + "s", theirs[-1] + "es"))


def merged_terms(matched: pd.Series) -> pd.Series:
    """Matched terms, one per paper and line (index: the paper's row). A term and its plural are one
    line, "point cloud / point clouds", of the papers matching either: a reader means one thing by
    both, and two lines of nearly the same papers would lie on top of each other. So are terms that
    match exactly the same papers ("retrieval-augmented generation" and "retrieval augmented
    generation", which the topic's matching does not tell apart)."""
    papers: dict[str, set] = {}
    for row, term in matched.items():
        papers.setdefault(term, set()).add(row)
    groups: list[list[str]] = []
    for term in papers:
        group = next((group for group in groups if any(_plural_of(term, other) or _plural_of(other, term)
                                                       for other in group)), None)
        if group is None:
            groups.append([term])
        else:
            group.append(term)
    alike: dict[frozenset, list[str]] = {}
    for group in groups:
        alike.setdefault(frozenset().union(*(papers[term] for term in group)), []).extend(group)
    label = {term: " / ".join(terms) for terms in alike.values() for term in terms}
    pairs = pd.DataFrame({"row": matched.index, "term": matched.map(label).to_numpy()}).drop_duplicates()
    return pd.Series(pairs["term"].to_numpy(), index=pairs["row"].to_numpy(), dtype="object")


def term_shares(frame: pd.DataFrame, chosen: Period, limit: int = TERM_LINES,
                min_papers: int = TERM_MIN_PAPERS) -> pd.DataFrame:
    """Per period (rows) and term (columns, the `limit` most matched; a term and its plural, or terms
    matching the same papers, merged), the share of the period's papers that matched the term, in
    percent, for periods of at least `min_papers` papers; from the frame's `matched_terms` column."""
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


@charted
def terms_over_time(frame: pd.DataFrame, as_of: datetime | None = None, *, layout: Layout) -> Chart | None:
    """Lines of each term's share of the papers per month (per quarter beyond two years), the legend
    under them; None when no paper has matched terms. A last period not over at `as_of` is drawn
    dashed. On a phone the `PHONE_TERM_LINES` most matched terms."""
    if not frame["matched_terms"].map(bool).any():
        return None
    chosen = term_period(frame)
    shares = term_shares(frame, chosen, PHONE_TERM_LINES if layout.phone else TERM_LINES)
    if shares.empty:
        return None
    centres = [start + (chosen.end(start) - start) / 2 for start in shares.index]
    partial = len(centres) > 1 and _is_partial(chosen, shares.index[-1], as_of)
    figure, axes = _figure(layout, 6.0)  # room for the legend under the lines, and on a phone for the lines
    for term in shares.columns:
        values = shares[term].to_numpy()
        solid = len(values) - 1 if partial else len(values)
        line, = axes.plot(centres[:solid], values[:solid], marker="o", markersize=3.5, linewidth=1.8,
                          label=_wrapped(_label(term, layout.term_chars), layout.wrap))
        if partial:
            axes.plot(centres[-2:], values[-2:], linestyle=":", marker="o", markersize=3.5, fillstyle="none",
                      color=line.get_color())
    unit, dotted = chosen.unit, "; dotted: not over at the last fetch" if partial else ""
    if layout.phone:  # fewer words: on a phone each line of text takes height from the lines
        _titled(axes, layout, f"Terms: share of each {unit}'s papers",
                f"{unit.capitalize()} (UTC); {unit}s of under {TERM_MIN_PAPERS} papers left out{dotted}", "Papers (%)")
    else:
        _titled(axes, layout, f"Terms over time: share of each {unit}'s papers",
                f"{unit.capitalize()} of submission (UTC); {unit}s of fewer than {TERM_MIN_PAPERS} papers left out"
                f"{dotted}", "Papers matching the term (%)")
    axes.set_ylim(bottom=0)
    _counts(axes.yaxis, layout)
    labels = [f"{start:%Y} Q{start.quarter}" if chosen is QUARTER else start.strftime(chosen.date_format)
              for start in shares.index]
    _ticks(axes, centres, labels, layout.max_ticks)
    # Under the lines, which keep the chart's width (beside them, on a phone, it would leave them none).
    figure.legend(loc="outside lower left", frameon=False, ncols=1 if layout.phone else 2)
    return figure


SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
WIDE_CLASS, PHONE_CLASS = "topic-report-wide", "topic-report-phone"
# Shown inline in a page rather than as an image, the rules apply to the page (by these class names
# only) and the width is the window's.
SHOW_BY_WIDTH = (f".{PHONE_CLASS} {{ display: none }} @media (max-width: {PHONE_UP_TO}px) "
                 f"{{ .{WIDE_CLASS} {{ display: none }} .{PHONE_CLASS} {{ display: inline }} }}")


def _document(figure: Figure) -> str:
    """The figure alone as an SVG document (no creation date: the same chart gives the same bytes).

    Text stays text in the SVG, drawn by the browser's fonts, so matplotlib's warning that its own
    font lacks a glyph (李, 🦄) is moot; unsilenced it would print onto the report page.
    """
    buffer = io.StringIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning)
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _nested(root: etree._Element, css_class: str, prefix: str) -> etree._Element:
    """A drawing's root as an `<svg>` filling its parent, its ids prefixed: the two drawings'
    matplotlib ids (clip paths, tick marks) repeat, and each must use its own."""
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if "id" in element.attrib:
            element.set("id", prefix + element.get("id"))
        for name, value in element.attrib.items():
            if "url(#" in value:
                element.set(name, value.replace("url(#", f"url(#{prefix}"))
            elif name == f"{{{XLINK}}}href" and value.startswith("#"):
                element.set(name, f"#{prefix}{value[1:]}")
    root.set("class", css_class)
    root.set("width", "100%")
    root.set("height", "100%")
    return root


@styled
def svg(figure: Figure) -> str:
    """The chart as one SVG document: its wide drawing and, for a chart drawn for a phone too, that
    one, each shown at the widths that suit it (see the module's docstring)."""
    phone = getattr(figure, "phone", None)
    if phone is None:
        return _document(figure)
    wide, narrow = (etree.fromstring(_document(drawing).encode("utf-8")) for drawing in (figure, phone))
    # The wide drawing's size is the chart's: where a page does not narrow it, it shows as before.
    outer = etree.Element(f"{{{SVG}}}svg", nsmap={None: SVG, "xlink": XLINK},
                          attrib={name: wide.get(name) for name in ("width", "height", "viewBox", "version")})
    etree.SubElement(outer, f"{{{SVG}}}style").text = SHOW_BY_WIDTH
    outer.append(_nested(wide, WIDE_CLASS, "wide-"))
    outer.append(_nested(narrow, PHONE_CLASS, "phone-"))
    return etree.tostring(outer, encoding="unicode")
