"""What notebooks/topic.ipynb calls: parameter checks, the topic's data, and each page section.

Each section method returns its part of the page (a Section of HTML from the templates in
helpers/page/ and SVG charts) for Jupyter to display, so the notebook holds narrative and calls
only, and a topic without papers gets a clear "no papers yet" page.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import pandas as pd
from IPython.display import HTML, SVG, display
from itables import init_notebook_mode
from markdown_it import MarkdownIt
from markupsafe import Markup
from matplotlib.figure import Figure
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from topic_report import SITE_DIR, TopicReportError, charts, exports, tables, tex, topic_files
from topic_report.arxiv.links import abs_url, pdf_url
from topic_report.audit import TopicAudit, beyond_the_cap
from topic_report.checks import WORDS, Count, Day, FilePath, Moment, Text
from topic_report.digest import close_bidi, render_digest
from topic_report.markup import render
from topic_report.project import Project
from topic_report.ranking import by_score
from topic_report.store import ARXIV_ID, Coverage, Paper, Store
from topic_report.taxonomy import category_name, is_category
from topic_report.topic_data import TopicData
from topic_report.topics import Topic, load_topics, select

ARXIV_ABS_URL = re.compile(rf"{re.escape(abs_url(''))}(?:{ARXIV_ID.pattern})v\d+")
# Papers listed in full under "What is new"; the rest of a larger batch is in the table.
NEW_SHOWN = 30
# The digest's own headings sit below the page's section headings.
DIGEST_HEADING_SHIFT = 2


def _shared_library(value):
    if not isinstance(value, str) or not tables.SHARED_LIBRARY.fullmatch(value):
        raise ValueError("not the address of a shared library")
    return value


class Parameters(BaseModel):
    """The notebook's parameters, checked. The topics file and the store follow the command line's rule
    (helpers/project.py): given paths as given, else the nearest topics.yml and the store in its folder."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: Text
    since: Day | None = None
    until: Day | None = None
    digest_limit: Count | None = None
    top_authors: Count = 15
    config: FilePath | None = None
    db_path: FilePath | None = None
    previous_build: Moment | None = None
    table_library: Annotated[str, BeforeValidator(_shared_library)] | None = None  # the site's copy of the table library
    topic_data: FilePath | None = None  # the topic's data as the build loaded it (a pickled TopicData)
    table_details: FilePath | None = None  # where a site's page writes its table's details (None: in the page)

    @model_validator(mode="after")
    def _window_in_order(self) -> Parameters:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"parameter since ({self.since}) is after until ({self.until})")
        return self

    @classmethod
    def check(cls, **raw) -> Parameters:
        """Validate raw values (from papermill, Quarto or a person); raise TopicReportError saying which."""
        try:
            return cls(**raw)
        except ValidationError as exc:
            raise TopicReportError(_problem(exc.errors()[0])) from None

    def project(self) -> Project:
        return Project.find(self.config)

    def store_path(self) -> Path:
        return self.db_path or self.project().store_path()


_EXPECTED = {"topic": WORDS[Text], "since": f"{WORDS[Day]} or None", "until": f"{WORDS[Day]} or None",
             "digest_limit": WORDS[Count], "top_authors": WORDS[Count], "config": WORDS[FilePath],
             "db_path": WORDS[FilePath], "previous_build": f"{WORDS[Moment]} or None",
             "table_library": "a relative address of a .js file starting ./ (letters, digits, -_./)",
             "topic_data": WORDS[FilePath], "table_details": WORDS[FilePath]}


def _problem(error) -> str:
    """One line for pydantic's first error: which parameter, what it must be, what it was."""
    if not error["loc"]:  # the window's check, in its own words
        return str(error["ctx"]["error"])
    name, value = error["loc"][0], error["input"]
    if error["type"] == "extra_forbidden":
        return f"parameter {name} is not one of the report's: {', '.join(Parameters.model_fields)}"
    return f"parameter {name} must be {_EXPECTED[name]}, not {value!r} ({type(value).__name__})"


def digest_html(markdown: str) -> str:
    """The digest's markdown as HTML (its `<details>` blocks kept; its text arrives neutralized).
    The papers' arXiv addresses become links; no other address does, whatever the text holds."""
    parser = MarkdownIt("commonmark", {"html": True, "linkify": True}).enable("linkify")
    parser.validateLink = lambda url: bool(ARXIV_ABS_URL.fullmatch(url))
    tokens = parser.parse(markdown)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + DIGEST_HEADING_SHIFT, 6)}"
    return parser.renderer.render(tokens, parser.options, {})


@dataclass(frozen=True)
class TopicReport:
    """One topic's page: its data (helpers/topic_data.py) and the page's sections drawn from it."""

    parameters: Parameters
    data: TopicData

    @classmethod
    def load(cls, **raw) -> TopicReport:
        """Check the notebook parameters and read the topic's data from the store."""
        params = Parameters.check(**raw)
        # The build's, which it also makes the topic's digest and exports from; gone once that build
        # is done (its executed copy run again by hand): read from the store like any other run.
        if params.topic_data and params.topic_data.is_file():
            with params.topic_data.open("rb") as handed:
                return cls(params, pickle.load(handed))
        topic = select(load_topics(params.project().topics_file), [params.topic])[0]
        with Store(params.store_path(), create=False) as store:
            data = TopicData.load(store, topic, previous_build=params.previous_build,
                                  since=params.since, until=params.until)
        return cls(params, data)

    @property
    def topic(self) -> Topic:
        return self.data.topic

    @property
    def papers(self) -> list[Paper]:
        return self.data.papers

    @property
    def frame(self) -> pd.DataFrame:
        return self.data.frame

    @property
    def joined(self) -> set[str] | None:
        return self.data.joined

    @property
    def updated(self) -> set[str]:
        return self.data.updated

    @property
    def coverage(self) -> Coverage:
        return self.data.coverage

    @property
    def empty(self) -> bool:
        return self.data.empty

    def title(self) -> Section:
        """The topic and its window, with the site's styles, as the notebook's first output: a run
        by hand (papermill, Jupyter, Quarto) is titled with its topic and looks as on the site.
        The site's pages carry their title already; report.css hides this one there."""
        return Section(render("title.html.j2", style=Markup(report_css()), topic=self.topic.name, window=self.window()))

    def window(self) -> str:
        """Which papers the report covers, by submission day."""
        since, until = self.parameters.since, self.parameters.until
        if since and until:
            return f"Papers submitted from {since} to {until}"
        if since or until:
            return f"Papers submitted {'since' if since else 'until'} {since or until}"
        return "Every paper stored for the topic"

    def init_tables(self) -> None:
        """Put the interactive-table library into this cell's output (offline): keep that output.
        A site's pages link its one shared copy instead (`table_library`), which the browser caches."""
        if not self.empty and self.parameters.table_library is None:
            init_notebook_mode(all_interactive=False, connected=False)

    @property
    def fetched_at(self) -> datetime | None:
        return self.coverage.last_fetched

    def about(self) -> Section:
        """What data the page shows: as of when (the last successful fetch), the query, the window."""
        shown = [f"from {self.parameters.since:%Y-%m-%d}" if self.parameters.since else "",
                 f"to {self.parameters.until:%Y-%m-%d}" if self.parameters.until else ""]
        limits = f" This page shows those submitted {' '.join(filter(None, shown))}." if any(shown) else ""
        # The fetch line's own words: "arXiv reports 317 since …, 317 stored" or "newest 50 of 317 matched …".
        held = self.coverage.sentence(self.topic.max_results)
        if self.coverage.reported is None:
            held = (f"papers submitted since {self.coverage.since:%Y-%m-%d}, " if self.coverage.since
                    else "papers of the topic's window, ") + held
        return Section(render("about.html.j2", sample=self.data.sample, slug=self.topic.slug, stored=self.coverage.stored,
                              last_run=self.data.last_run, fetched_at=self.fetched_at, held=held, limits=limits,
                              query=self.data.query))

    @property
    def in_reading_order(self) -> pd.DataFrame:
        """The papers as "What is new" lists them: by relevance score (ties: newest first), or newest
        first when the topic says `order: date`."""
        return self.frame if self.topic.order == "date" else by_score(self.frame)

    def whats_new(self) -> Section:
        """The papers new (NEW) or revised (UPDATED vN) since the previous build, the most relevant
        first, each with why it ranks where it does; weak matches folded under "also matched"."""
        if self.empty:  # said once, here; the later sections of an empty page stay empty
            return Section(render("no_papers.html.j2", topic=self.topic.name, slug=self.topic.slug))
        order = "newest" if self.topic.order == "date" else "most relevant"
        if self.joined is None:
            chosen = self.in_reading_order.head(self.parameters.digest_limit or self.topic.digest_limit)
            note = f"The first build of this page: nothing to compare with yet. The {len(chosen):,} {order} papers:"
        else:
            since = f"{self.parameters.previous_build:%Y-%m-%d %H:%M} UTC"
            chosen = self.in_reading_order[self.in_reading_order["id"].isin(self.joined | self.updated)]
            if chosen.empty:
                return Section(render("section_empty.html.j2", text=f"Nothing new since the last build ({since})."))
            more = f", the {order} {NEW_SHOWN} here, every one in the table below" if len(chosen) > NEW_SHOWN else ""
            note = (f"{len(chosen):,} paper{'s' if len(chosen) != 1 else ''} new or updated since the last build "
                    f"({since}){more}:")
        shown = chosen.head(NEW_SHOWN)
        return Section(render("whats_new.html.j2", note=note,
                              strong=[self._card(paper) for paper in shown[~shown["weak"]].itertuples()],
                              weak=[self._card(paper) for paper in shown[shown["weak"]].itertuples()]))

    def _card(self, paper) -> Card:
        """One paper of "What is new", its pieces escaped (helpers/page/card.html.j2 lays them out)."""
        mark = ("new" if self.joined is not None and paper.id in self.joined
                else "updated" if paper.id in self.updated else None)
        terms = getattr(paper, "matched_terms", None) or ()
        categories = [code for code in paper.categories if is_category(code)] or [paper.primary_category]
        linked = bool(ARXIV_ID.fullmatch(paper.id))  # only ids of arXiv's own form become addresses
        return Card(
            followed=bool(paper.followed), mark=mark, version=paper.version,
            title=Markup(tex.html_of(close_bidi(paper.title))), url=abs_url(paper.id) if linked else None,
            score=paper.score, why=paper.why, authors=[close_bidi(name) for name in paper.authors],
            published=f"{paper.published:%Y-%m-%d}",
            revised=f"{paper.updated:%Y-%m-%d}" if paper.version > 1 else None, changes=_changes(paper),
            categories=[(code, category_name(code)) for code in categories],
            pdf=pdf_url(paper.id) if linked else None,
            comment=Markup(tables.linkified(paper.comment)) if isinstance(paper.comment, str) else None,
            abstract=Markup(tex.html_of(paper.abstract, lambda text: tables.highlighted(text, terms))),
            coins=exports.coins(paper))

    def headline(self) -> Section:
        """Papers, authors, date range and papers new since the last build."""
        if self.empty:
            return Section()
        days = self.frame["published"].dt.strftime("%Y-%m-%d")
        first, last = days.min(), days.max()
        authors = self.frame["authors"].explode().dropna().nunique()
        stats = [
            (f"{len(self.frame):,}", "papers"),
            (f"{authors:,}", "authors"),
            (first if first == last else f"{first} – {last}", "submitted"),
            ("—" if self.joined is None else f"{len(self.joined):,}",
             "new since the last build" if self.joined is not None else "new (no earlier build)"),
        ]
        return Section(render("headline.html.j2", stats=stats,
                              links=topic_files.links_html(self.topic.slug, lead="Take the papers elsewhere:")))

    def over_time(self) -> Section:
        """Papers per day, week or month, and the running total."""
        return self._section(lambda: [charts.papers_per_period(self.frame, self.fetched_at),
                                      charts.cumulative_papers(self.frame)])

    def terms_over_time(self) -> Section:
        """Each of the topic's terms' share of its papers per month or quarter."""
        if not self.topic.search_terms:
            return self._section(lambda: [render("no_terms.html.j2")])
        return self._section(lambda: [charts.terms_over_time(self.frame, self.fetched_at) or render(
            "section_empty.html.j2", text=self._why_no_terms_chart())])

    def _why_no_terms_chart(self) -> str:
        if not self.frame["matched_terms"].map(bool).any():
            return ("No paper's title or abstract holds one of the topic's terms as a phrase: arXiv matched "
                    "them elsewhere (an all: phrase also searches comments and authors).")
        unit = charts.term_period(self.frame).unit
        return (f"No {unit} has {charts.TERM_MIN_PAPERS} papers yet: a share of fewer would say little, "
                f"so the chart starts with the first {unit} that has.")

    def authors(self) -> Section:
        """The most prolific authors, and how many authors the papers have."""
        return self._section(lambda: [
            charts.top_authors(self.frame, self.parameters.top_authors)
            or render("section_empty.html.j2", text="No author has more than one paper here yet."),
            charts.authors_per_paper(self.frame)])

    def categories(self) -> Section:
        """Primary categories and cross-lists."""
        return self._section(lambda: [charts.categories(self.frame)])

    def table(self) -> Section:
        """Every paper: searchable, sortable, titles linked to arXiv."""
        return self._section(lambda: [Markup(tables.papers_table(self.frame, self.joined, self.parameters.table_library,
                                                                 self.parameters.table_details))])

    def digest(self) -> Section:
        """The newest papers, as `topic-report digest` writes them, folded: the page shows them above already."""
        limit = self.parameters.digest_limit or self.topic.digest_limit
        papers = self.papers[:limit]
        return self._section(lambda: [render("digest.html.j2", count=len(papers), digest=Markup(
            digest_html(render_digest(self.topic.name, papers))))])

    def announcements(self) -> Section:
        """Each listing day of the window: what arXiv announced in the topic's categories, what
        matches the topic, what it holds and what is pending (helpers/audit.py); a day without an
        announcement says why, a day no run read says so, in other words than a gap."""
        return Section(audit_html(self.data.audit))

    def _section(self, parts: Callable[[], list[Figure | Markup]]) -> Section:
        """A section of figures and HTML; empty without papers ("What is new" says so, once)."""
        return Section() if self.empty else Section(*parts())


class Section:
    """A part of the page: figures (matplotlib) and HTML, in order. Jupyter displays it (each chart as
    SVG with its title as alt text); keep it to reuse its parts (`section.parts`)."""

    def __init__(self, *parts: Figure | Markup) -> None:
        self.parts = parts

    def _ipython_display_(self) -> None:

        for part in self.parts:
            if isinstance(part, Figure):
                display(SVG(charts.svg(part), metadata={"alt": part.axes[0].get_title(loc="left")}))
            else:
                display(HTML(part))


@dataclass(frozen=True)
class Card:
    """One paper's card of "What is new": its marks and its pieces, text escaped (helpers/page/card.html.j2)."""

    followed: bool
    mark: str | None            # "new", "updated" or None
    version: int
    title: Markup               # escaped, its TeX as MathML
    url: str | None             # its arXiv page, for an id of arXiv's form
    score: float
    why: str
    authors: list[str]
    published: str              # YYYY-MM-DD
    revised: str | None         # the newest version's date, for a paper past v1
    changes: str | None         # what that version changed from the one stored before it, when one was
    categories: list[tuple[str, str | None]]  # arXiv codes (primary first) and their names
    pdf: str | None
    comment: Markup | None      # its web addresses linked
    abstract: Markup            # the topic's terms marked
    coins: Markup


def _changes(paper) -> str | None:
    """What the stored version changed from the one stored before it ("title and abstract changed
    from v1"), None when the store never held an earlier one (the paper arrived at this version)."""
    if pd.isna(paper.previous_version):
        return None
    changed = list(paper.changed)
    if not changed:
        return f"title, authors, abstract and comment as in v{paper.previous_version}"
    fields = changed[0] if len(changed) == 1 else ", ".join(changed[:-1]) + " and " + changed[-1]
    return f"{fields} changed from v{paper.previous_version}"


def audit_html(audit: TopicAudit) -> Markup:
    """The Coverage section: a summary, then a row per day from the first audited one, newest first."""
    audited = audit.audited
    categories = (audit.listing or "").replace("+", ", ")
    if audit.unauditable or not audited:
        return render("audit.html.j2", audit=audit, audited=audited, categories=categories)
    first = audited[-1].day
    days = [day for day in audit.days if day.day >= first]
    pending = sorted({paper_id for day in audited for paper_id in day.pending})
    totals = {"announced": sum(day.announced for day in audited), "matching": sum(day.matching for day in audited),
              "stored": sum(day.stored for day in audited)}
    waiting = [(paper_id, abs_url(paper_id), day.day) for day in days if day.audited is not None for paper_id in day.pending]
    beyond_cap = beyond_the_cap(len(audit.beyond_cap), audit.cap) if audit.beyond_cap else None
    return render("audit.html.j2", audit=audit, audited=audited, categories=categories, first=first,
                  days=days, pending=pending, totals=totals, waiting=waiting, beyond_cap=beyond_cap,
                  beyond_the_cap=beyond_the_cap)


def report_css() -> str:
    """report.css: put in an output as a <style>, it makes the page's elements (headline, tables,
    digest) look in Jupyter as they do on the site."""
    return (SITE_DIR / "report.css").read_text(encoding="utf-8")
