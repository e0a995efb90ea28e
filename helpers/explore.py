"""What notebooks/explore.ipynb calls: the store as DataFrames, searched across topics, a topic's
co-author network, the overlap between topics, and terms of one's choice over time.

Every function returns a DataFrame, a networkx graph or a matplotlib Figure, so the notebook (or
any Python session) can keep working from the result; `show` puts a DataFrame in an interactive,
offline itables table, with the text from arXiv escaped.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import matplotlib.dates as mdates
import networkx as nx
import pandas as pd
from IPython.display import HTML, SVG, display
from itables import init_notebook_mode
from itables import show as show_table
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from pandas.io.formats.style import Styler

from topic_report import TopicReportError, charts
from topic_report.checks import Day, Text, checked
from topic_report.frame import authors_by_papers, load_frame
from topic_report.project import Project
from topic_report.report import report_css
from topic_report.store import Store
from topic_report.topics import Topic, Words, load_topics, select

# The columns of a topic's frame (helpers/frame.py), and of `Explorer.papers`, which has `topics`
# (every topic the paper belongs to) instead of `topic`.
COLUMNS = {
    "id": "arXiv id without version, e.g. 2602.09934",
    "version": "the stored (newest) version, 1, 2, …",
    "title": "title, whitespace folded",
    "authors": "list of author names, in the paper's order",
    "first_author": "the first author's name ('' when there is none)",
    "n_authors": "number of authors",
    "published": "when version 1 was submitted (UTC)",
    "updated": "when the stored version was submitted (UTC)",
    "previous_version": "the version the store held before this one, or <NA> when it held none",
    "changed": "list of what the stored version changed from that one: title, authors, abstract, comment",
    "primary_category": "primary arXiv category, e.g. cs.CV",
    "categories": "list of every category the paper is listed in (primary first)",
    "abstract": "abstract, whitespace folded",
    "comment": "the authors' comment (pages, venue…), or None",
    "journal_ref": "journal reference, or None",
    "doi": "DOI, or None",
    "abs_url": "the paper's arXiv page (this version)",
    "pdf_url": "the paper's PDF (this version)",
    "topic": "the topic's slug (a topic's frame)",
    "matched_terms": "list of the topic's terms (or its query's phrases) the title or abstract holds;"
                     " in Explorer.papers, those of every topic it belongs to",
    "topics": "list of the slugs of every topic the paper belongs to (Explorer.papers)",
}
# Columns `show` puts in a table unless told otherwise: enough to recognise a paper, light enough
# for thousands of rows.
SHOWN = ["id", "title", "authors", "published", "primary_category", "topics"]
SHOWN_AUTHORS = 3
# Papers with more authors than this stay out of the co-author network: a large collaboration
# would make everyone a co-author of everyone.
MAX_NETWORK_AUTHORS = 30


def columns() -> Styler:
    """The documented columns, as a table to read (left-aligned, nothing cut short)."""
    table = pd.DataFrame({"meaning": list(COLUMNS.values())}, index=pd.Index(list(COLUMNS), name="column"))
    return table.style.set_properties(**{"text-align": "left"})


def setup() -> None:
    """Make DataFrames interactive tables (the library inlined: works offline) and give this
    notebook the report's styles. Keep this cell's output: it carries both."""
    init_notebook_mode(all_interactive=False, connected=False)
    display(HTML(f"<style>{report_css()}</style>"))


@dataclass(frozen=True)
class Explorer:
    """The topics of a topics file, and their papers in a store."""

    topics: list[Topic]
    store_path: Path

    @classmethod
    def open(cls, config=None, db_path=None) -> Explorer:
        """The topics file (by default the nearest topics.yml, as for the report) and its store."""
        project = Project.find(config)
        store_path = Path(db_path) if db_path is not None else project.store_path()
        if not store_path.is_file():
            raise TopicReportError(f"no store at {store_path}: run `make report` (or `topic-report fetch`) first")
        return cls(load_topics(project.topics_file), store_path)

    def topic(self, name: str) -> Topic:
        """A topic by name or slug."""
        return select(self.topics, [name])[0]

    def frame(self, topic: str, since=None, until=None) -> pd.DataFrame:
        """A topic's papers, newest first: the DataFrame the report page is drawn from."""
        with Store(self.store_path) as store:
            return load_frame(store, self.topic(topic).slug, _day("since", since), _day("until", until))

    def summary(self) -> pd.DataFrame:
        """Each topic: name, slug, papers stored, first and last submission day."""
        rows = []
        for topic in self.topics:
            frame = self.frame(topic.slug)
            days = frame["published"].dt.date
            rows.append({"topic": topic.name, "slug": topic.slug, "papers": len(frame),
                         "first": days.min() if len(frame) else None, "last": days.max() if len(frame) else None})
        return pd.DataFrame(rows, columns=["topic", "slug", "papers", "first", "last"])

    def papers(self) -> pd.DataFrame:
        """Every stored paper of every topic, once, newest first, with the list of its `topics`."""
        frames = [self.frame(topic.slug) for topic in self.topics]
        everything = pd.concat(frames, ignore_index=True)
        if everything.empty:
            return everything.drop(columns="topic").assign(topics=pd.Series(dtype=object))
        by_paper = everything.groupby("id", sort=False)
        unique = everything.drop_duplicates("id").drop(columns="topic")
        unique["topics"] = unique["id"].map(by_paper["topic"].agg(list))
        unique["matched_terms"] = unique["id"].map(
            by_paper["matched_terms"].agg(lambda lists: list(dict.fromkeys(itertools.chain.from_iterable(lists)))))
        return unique.sort_values(["published", "id"], ascending=False, ignore_index=True)

    def search(self, terms=None, *, author: str | None = None, category=None, since=None, until=None,
               topics=None, match: str = "any") -> pd.DataFrame:
        """Papers of the store matching every criterion given, newest first (columns: see COLUMNS).

        terms: a phrase or a list, found as whole words in the title or abstract, ignoring case;
        `match="all"` wants every phrase in a paper, "any" one of them. author: part of an author's
        name, ignoring case. category: one or a list; the paper is listed in one (primary or
        cross-list). since, until: submission days, inclusive ("YYYY-MM-DD"). topics: names or slugs.
        """
        papers = self.papers()
        keep = pd.Series(True, index=papers.index)
        if terms is not None:
            keep &= mentions(papers, _phrases(terms), match)
        if author is not None:
            wanted = _text("author", author).casefold()
            keep &= papers["authors"].map(lambda names: any(wanted in name.casefold() for name in names))
        if category is not None:
            wanted_categories = set(_phrases(category, what="category"))
            keep &= papers["categories"].map(lambda listed: bool(wanted_categories.intersection(listed)))
        days = papers["published"].dt.date
        if (first := _day("since", since)) is not None:
            keep &= days >= first
        if (last := _day("until", until)) is not None:
            keep &= days <= last
        if topics is not None:
            slugs = {topic.slug for topic in select(self.topics, _phrases(topics, what="topic"))}
            keep &= papers["topics"].map(lambda listed: bool(slugs.intersection(listed)))
        return papers[keep].reset_index(drop=True)

    def overlap(self) -> pd.DataFrame:
        """Papers shared by each pair of topics (rows and columns: topic names; the diagonal: each
        topic's own papers)."""
        members = {topic.name: set(self.frame(topic.slug)["id"]) for topic in self.topics}
        names = list(members)
        return pd.DataFrame([[len(members[a] & members[b]) for b in names] for a in names],
                            index=pd.Index(names, name="topic"), columns=names)

    def shared(self, first: str, second: str | None = None) -> pd.DataFrame:
        """The papers two topics share, newest first; without `second`, the papers `first` shares
        with any other topic."""
        slug = self.topic(first).slug
        papers = self.papers()
        if second is None:
            shared = papers["topics"].map(lambda listed: slug in listed and len(listed) > 1)
        else:
            pair = {slug, self.topic(second).slug}
            shared = papers["topics"].map(pair.issubset)
        return papers[shared].reset_index(drop=True)


def mentions(frame: pd.DataFrame, phrases: list[str], match: str = "any") -> pd.Series:
    """Which papers mention the phrases in their title or abstract, as a topic's terms match (whole
    words in order, any case, punctuation between them ignored: "RAG" is not in "storage")."""
    if match not in ("any", "all"):
        raise TopicReportError(f"match must be 'any' or 'all', not {match!r}")
    texts = [Words(f"{title}\n{abstract}") for title, abstract in zip(frame["title"], frame["abstract"], strict=False)]
    wanted = any if match == "any" else all
    return pd.Series([wanted(phrase in text for phrase in phrases) for text in texts], index=frame.index, dtype="bool")


def _phrases(value, what: str = "term") -> list[str]:
    values = [value] if isinstance(value, str) else value
    try:
        phrases = [_text(what, item) for item in values]
    except TypeError:
        raise TopicReportError(f"{what} must be a text or a list of texts, not {value!r}") from None
    if not phrases:
        raise TopicReportError(f"give at least one {what}")
    return phrases


def _text(what: str, value) -> str:
    return checked(Text, value, what)


def _day(name: str, value) -> date | None:
    return None if value is None else checked(Day, value, name)


# --- co-authors -------------------------------------------------------------------------------

def coauthor_graph(frame: pd.DataFrame, max_authors: int = MAX_NETWORK_AUTHORS) -> nx.Graph:
    """Who writes with whom: a node per author (`papers`: how many), an edge per pair of co-authors
    (`papers`: how many together). Papers with more than `max_authors` authors are left out."""
    graph = nx.Graph()
    for authors in frame["authors"]:
        names = list(dict.fromkeys(authors))  # a name listed twice is one author
        if len(names) > max_authors:
            continue
        for name in names:
            graph.add_node(name, papers=graph.nodes[name]["papers"] + 1 if name in graph else 1)
        for first, second in itertools.combinations(names, 2):
            together = graph.edges[first, second]["papers"] if graph.has_edge(first, second) else 0
            graph.add_edge(first, second, papers=together + 1)
    return graph


def most_prolific(frame: pd.DataFrame) -> str | None:
    """The author with the most papers in the frame (ties by name), if there is one."""
    ranked = authors_by_papers(frame)
    return ranked[0][0] if ranked else None


def strongest_pairs(graph: nx.Graph, limit: int = 10) -> pd.DataFrame:
    """The pairs of authors with the most papers together (ties by name)."""
    pairs = sorted((tuple(sorted((a, b))) + (data["papers"],) for a, b, data in graph.edges(data=True)),
                   key=lambda pair: (-pair[2], pair[0], pair[1]))
    return pd.DataFrame(pairs[:limit], columns=["author", "coauthor", "papers"])


def author_groups(graph: nx.Graph, limit: int = 10, min_size: int = 2) -> pd.DataFrame:
    """The connected groups of co-authors (everyone linked through shared papers), largest first:
    how many authors, and its members, the most prolific first."""
    groups = [group for group in nx.connected_components(graph) if len(group) >= min_size]
    ranked = sorted(groups, key=lambda group: (-len(group), min(group)))[:limit]
    rows = []
    for group in ranked:
        members = sorted(group, key=lambda name: (-graph.nodes[name]["papers"], name))
        rows.append({"authors": len(members), "pairs": graph.subgraph(group).number_of_edges(),
                     "members": members})
    return pd.DataFrame(rows, columns=["authors", "pairs", "members"])


# --- terms over time --------------------------------------------------------------------------

def term_counts(frame: pd.DataFrame, terms, freq: str | None = None) -> pd.DataFrame:
    """Papers mentioning each term (whole words, any case, title or abstract) per period: rows are
    the periods' first days, columns the terms. freq: a pandas frequency ("W-MON", "MS"); by default
    the one the report's terms-over-time chart uses for the frame's span (week, month or quarter)."""
    phrases = _phrases(terms)
    if frame.empty:
        return pd.DataFrame(columns=phrases, dtype="int64")
    freq = freq or charts.term_period(frame).freq
    days = frame["published"].dt.tz_convert(None).dt.normalize()
    counts = {phrase: mentions(frame, [phrase]).set_axis(days).groupby(level=0).sum()
              .resample(freq, label="left", closed="left").sum() for phrase in phrases}
    return pd.DataFrame(counts).fillna(0).astype("int64").rename_axis("period")


@charts.styled
def terms_figure(counts: pd.DataFrame) -> Figure:
    """One line per term: papers mentioning it per period."""
    figure = Figure(layout="constrained")  # the size of the report's charts (charts.STYLE)
    axes = figure.add_subplot()
    for term in counts.columns:
        axes.plot(counts.index, counts[term].to_numpy(), marker="o", markersize=3, label=term)
    axes.set_title("Papers mentioning each term")
    axes.set_xlabel("Submission date (UTC)")
    axes.set_ylabel("Papers")
    axes.set_ylim(bottom=0)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if len(counts.columns):  # beside the lines, not over them
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return figure


# --- showing ----------------------------------------------------------------------------------

def chart(figure: Figure) -> SVG:
    """A figure as the SVG the report's charts are (Jupyter shows it; `.data` is the SVG text)."""
    return SVG(charts.svg(figure))


def readable(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """A frame for reading: chosen columns (by default, of a frame of papers those of SHOWN it has,
    of any other all), lists as text (of authors, the first few), times as days."""
    papers = "title" in frame.columns
    chosen = columns or ([column for column in SHOWN if column in frame.columns] if papers else list(frame.columns))
    view = frame[chosen].copy()
    for column in chosen:
        if isinstance(view[column].dtype, pd.DatetimeTZDtype):  # first: .any() fails on dates
            view[column] = view[column].dt.strftime("%Y-%m-%d")
        elif view[column].map(lambda value: isinstance(value, list)).any():
            shorten = _short_authors if papers and column == "authors" else ", ".join
            view[column] = view[column].map(lambda value: shorten(value) if isinstance(value, list) else value)  # noqa: B023 (called in this iteration)
    return view


def _short_authors(authors: list[str]) -> str:
    hidden = len(authors) - SHOWN_AUTHORS
    shown = ", ".join(authors[:SHOWN_AUTHORS])
    return f"{shown} +{hidden} more" if hidden > 0 else shown


def show(frame: pd.DataFrame, columns: list[str] | None = None, **options) -> None:
    """The frame as an interactive table (search box, sorting, paging), through `readable`.
    itables escapes every cell, so titles and names from arXiv show as text."""
    table = readable(frame, columns)
    show_table(table, **{"connected": False, "pageLength": 10, "classes": "display compact", **options})

