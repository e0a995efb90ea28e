"""What notebooks/topic.ipynb calls: parameter checks, the topic's data, and each page section.

Each section method displays its part of the page (HTML, SVG charts), so the notebook holds
narrative and calls only, and a topic without papers gets a clear "no papers yet" page.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
from IPython.display import HTML, SVG, display
from itables import init_notebook_mode
from markdown_it import MarkdownIt
from matplotlib.figure import Figure

from topic_report import SITE_DIR, TopicReportError, charts, exports, tables, topic_files
from topic_report.arxiv.links import abs_url
from topic_report.audit import TopicAudit
from topic_report.digest import render_digest
from topic_report.project import Project
from topic_report.ranking import by_score
from topic_report.store import ARXIV_ID, Coverage, Paper, Store
from topic_report.topic_data import TopicData
from topic_report.topics import Topic, load_topics, select

ARXIV_ABS_URL = re.compile(rf"{re.escape(abs_url(''))}(?:{ARXIV_ID.pattern})v\d+")
# Papers listed in full under "What is new"; the rest of a larger batch is in the table.
NEW_SHOWN = 30
# The digest's own headings sit below the page's section headings.
DIGEST_HEADING_SHIFT = 2


@dataclass(frozen=True)
class Parameters:
    """The notebook's parameters, checked. The topics file and the store follow the command line's rule
    (helpers/project.py): given paths as given, else the nearest topics.yml and the store in its folder."""

    topic: str
    since: date | None
    until: date | None
    digest_limit: int | None
    top_authors: int
    config: Path | None
    db_path: Path | None
    previous_build: datetime | None
    table_library: str | None  # the site's shared copy of itables' bundle, relative to the page

    @classmethod
    def check(cls, *, topic, since=None, until=None, digest_limit=None, top_authors=15, config=None,
              db_path=None, previous_build=None, table_library=None) -> Parameters:
        """Validate raw values (from papermill, Quarto or a person); raise TopicReportError saying which."""
        checked = cls(
            topic=_text("topic", topic),
            since=_date("since", since),
            until=_date("until", until),
            digest_limit=None if digest_limit is None else _count("digest_limit", digest_limit),
            top_authors=_count("top_authors", top_authors),
            config=None if config is None else _path("config", config),
            db_path=None if db_path is None else _path("db_path", db_path),
            previous_build=_moment("previous_build", previous_build),
            table_library=None if table_library is None else _library("table_library", table_library),
        )
        if checked.since and checked.until and checked.since > checked.until:
            raise TopicReportError(f"parameter since ({checked.since}) is after until ({checked.until})")
        return checked

    def project(self) -> Project:
        return Project.find(self.config)

    def store_path(self) -> Path:
        return self.db_path or self.project().store_path()


def _problem(name: str, expected: str, value) -> TopicReportError:
    return TopicReportError(f"parameter {name} must be {expected}, not {value!r} ({type(value).__name__})")


def _text(name: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _problem(name, "a non-empty text", value)
    return value.strip()


def _count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _problem(name, "a whole number of at least 1", value)
    return value


def _date(name: str, value) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise _problem(name, "a date YYYY-MM-DD or None", value) from None


def _moment(name: str, value) -> datetime | None:
    if value is None:
        return None
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise _problem(name, "an ISO 8601 time or None", value) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _library(name: str, value) -> str:
    if not isinstance(value, str) or not tables.SHARED_LIBRARY.fullmatch(value):
        raise _problem(name, "a relative address of a .js file starting ./ (letters, digits, -_./)", value)
    return value


def _path(name: str, value) -> Path:
    if not isinstance(value, (str, Path)) or not str(value):
        raise _problem(name, "a file path", value)
    return Path(value)


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


def _stat(value: str, label: str) -> str:
    return (f'<div class="stat"><span class="stat-value">{html.escape(value)}</span>'
            f'<span class="stat-label">{html.escape(label)}</span></div>')


@dataclass(frozen=True)
class TopicReport:
    """One topic's page: its data (helpers/topic_data.py) and the page's sections drawn from it."""

    parameters: Parameters
    data: TopicData

    @classmethod
    def load(cls, **raw) -> TopicReport:
        """Check the notebook parameters and read the topic's data from the store."""
        params = Parameters.check(**raw)
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

    def title(self) -> None:
        """The topic and its window, with the site's styles, as the notebook's first output: a run
        by hand (papermill, Jupyter, Quarto) is titled with its topic and looks as on the site.
        The site's pages carry their title already; report.css hides this one there."""
        display(HTML(f'{report_style()}<div class="report-title"><p class="report-topic">'
                     f'{html.escape(self.topic.name)}</p><p class="report-window">{self.window()}</p></div>'))

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

    def about(self) -> None:
        """What data the page shows: as of when (the last successful fetch), the query, the window."""
        query = f'<details><summary>The arXiv query</summary><code>{html.escape(self.data.query)}</code></details>'
        shown = [f"from {self.parameters.since:%Y-%m-%d}" if self.parameters.since else "",
                 f"to {self.parameters.until:%Y-%m-%d}" if self.parameters.until else ""]
        limits = f" This page shows those submitted {' '.join(filter(None, shown))}." if any(shown) else ""
        fetch = f"<code>topic-report fetch --topic {html.escape(self.topic.slug)}</code>"
        if self.data.sample:
            lines = [f"<p><strong>A sample, not fetched yet:</strong> {self.coverage.stored:,} real arXiv papers "
                     f"shipped with topic-report, so that a first run has something to show. "
                     f"{fetch} replaces them with the topic's own papers.{html.escape(limits)}</p>", query]
        elif self.fetched_at is None and self.data.last_run is not None:
            lines = [f"<p>Fetched only for chosen dates (last on <strong>{self.data.last_run:%Y-%m-%d %H:%M} UTC"
                     f"</strong>), not yet for its window: {self.coverage.stored:,} papers stored. "
                     f"{fetch} fetches the window.{html.escape(limits)}</p>", query]
        elif self.fetched_at is None:
            lines = [f"<p>Never fetched from arXiv: {fetch}.</p>", query]
        else:
            # The fetch line's own words: "arXiv reports 317 since …, 317 stored" or "newest 50 of 317 matched …".
            held = self.coverage.sentence(self.topic.max_results)
            if self.coverage.reported is None:
                held = (f"papers submitted since {self.coverage.since:%Y-%m-%d}, " if self.coverage.since
                        else "papers of the topic's window, ") + held
            lines = [f"<p>Data as of <strong>{self.fetched_at:%Y-%m-%d %H:%M} UTC</strong> (the last successful "
                     f"fetch): {html.escape(held)}.{html.escape(limits)}</p>", query]
        kind = "about-data sample" if self.data.sample else "about-data"
        display(HTML(f'<div class="{kind}">{"".join(lines)}</div>'))

    @property
    def in_reading_order(self) -> pd.DataFrame:
        """The papers as "What is new" lists them: by relevance score (ties: newest first), or newest
        first when the topic says `order: date`."""
        return self.frame if self.topic.order == "date" else by_score(self.frame)

    def whats_new(self) -> None:
        """The papers new (NEW) or revised (UPDATED vN) since the previous build, the most relevant
        first, each with why it ranks where it does; weak matches folded under "also matched"."""
        if self.empty:  # said once, here; the later sections of an empty page stay empty
            display(HTML(
                f'<div class="no-papers"><strong>No papers yet</strong> for {html.escape(self.topic.name)}: '
                f"the store holds none. Fetch them with <code>topic-report fetch --topic "
                f"{html.escape(self.topic.slug)}</code>, then build again.</div>"))
            return
        order = "newest" if self.topic.order == "date" else "most relevant"
        if self.joined is None:
            chosen = self.in_reading_order.head(self.parameters.digest_limit or self.topic.digest_limit)
            note = f"The first build of this page: nothing to compare with yet. The {len(chosen):,} {order} papers:"
        else:
            since = f"{self.parameters.previous_build:%Y-%m-%d %H:%M} UTC"
            chosen = self.in_reading_order[self.in_reading_order["id"].isin(self.joined | self.updated)]
            if chosen.empty:
                display(HTML(f'<p class="section-empty">Nothing new since the last build ({since}).</p>'))
                return
            more = f", the {order} {NEW_SHOWN} here, every one in the table below" if len(chosen) > NEW_SHOWN else ""
            note = (f"{len(chosen):,} paper{'s' if len(chosen) != 1 else ''} new or updated since the last build "
                    f"({since}){more}:")
        shown = chosen.head(NEW_SHOWN)
        strong, weak = shown[~shown["weak"]], shown[shown["weak"]]
        cards = "".join(self._card(paper) for paper in strong.itertuples())
        if len(weak):
            cards += (f'<details class="also-matched"><summary>Also matched: {len(weak):,} weak '
                      f'match{"es" if len(weak) != 1 else ""} (a term in passing)</summary>'
                      + "".join(self._card(paper) for paper in weak.itertuples()) + "</details>")
        display(HTML(f'<p class="new-note">{html.escape(note)}</p><div class="new-papers">{cards}</div>'))

    def _card(self, paper) -> str:
        """One paper of "What is new": marks, linked title, why it ranks there, PDF, authors, date,
        categories, comment, abstract."""
        marks = []
        if paper.followed:
            marks.append('<span class="mark mark-followed">FOLLOWED</span>')
        if self.joined is not None and paper.id in self.joined:
            marks.append('<span class="mark mark-new">NEW</span>')
        elif paper.id in self.updated:
            marks.append(f'<span class="mark mark-updated">UPDATED v{paper.version}</span>')
        terms = getattr(paper, "matched_terms", None) or ()
        # The store keeps the newest version only: the card says when it came, not what changed.
        revised = f" · v{paper.version} of <time>{paper.updated:%Y-%m-%d}</time>" if paper.version > 1 else ""
        return (
            f'<article class="paper-card">'
            f'<p class="paper-title">{"".join(marks)}{tables.abs_link(paper.id, paper.title)}</p>'
            f'<p class="paper-why" title="relevance score {paper.score:g}">{html.escape(paper.why)}</p>'
            f'<p class="paper-authors">{tables.all_authors(paper.authors)}</p>'
            f'<p class="paper-meta"><time>{paper.published:%Y-%m-%d}</time>{revised} · {tables.paper_categories(paper)} · '
            f'{tables.pdf_link(paper.id)}</p>{tables.comment_of(paper)}'
            f'<details><summary>Abstract</summary><p class="paper-abstract">'
            f'{tables.highlighted(paper.abstract, terms)}</p></details>{exports.coins(paper)}'
            f'</article>')

    def headline(self) -> None:
        """Papers, authors, date range and papers new since the last build."""
        if self.empty:
            return
        days = self.frame["published"].dt.strftime("%Y-%m-%d")
        first, last = days.min(), days.max()
        authors = self.frame["authors"].explode().dropna().nunique()
        stats = [
            _stat(f"{len(self.frame):,}", "papers"),
            _stat(f"{authors:,}", "authors"),
            _stat(first if first == last else f"{first} – {last}", "submitted"),
            _stat("—" if self.joined is None else f"{len(self.joined):,}",
                  "new since the last build" if self.joined is not None else "new (no earlier build)"),
        ]
        display(HTML(f'<div class="headline">{"".join(stats)}</div>{topic_files.links_html(self.topic.slug, lead="Take the papers elsewhere:")}'))

    def over_time(self) -> None:
        """Papers per day, week or month, and the running total."""
        self._show(lambda: [charts.papers_per_period(self.frame, self.fetched_at), charts.cumulative_papers(self.frame)])

    def terms_over_time(self) -> None:
        """Each of the topic's terms' share of its papers per month or quarter."""
        no_terms = ('<p class="section-empty">This topic\'s query names no <code>ti:</code>, <code>abs:</code> or '
                    '<code>all:</code> phrase: there are no terms to follow.</p>' if not self.topic.search_terms
                    else '<p class="section-empty">No paper has its matched terms recorded yet '
                         '(they are recorded as papers are fetched).</p>')
        self._show(lambda: [charts.terms_over_time(self.frame, self.fetched_at) or no_terms])

    def authors(self) -> None:
        """The most prolific authors, and how many authors the papers have."""
        self._show(lambda: [charts.top_authors(self.frame, self.parameters.top_authors)
                            or '<p class="section-empty">No author has more than one paper here yet.</p>',
                            charts.authors_per_paper(self.frame)])

    def categories(self) -> None:
        """Primary categories and cross-lists."""
        self._show(lambda: [charts.categories(self.frame)])

    def table(self) -> None:
        """Every paper: searchable, sortable, titles linked to arXiv."""
        self._show(lambda: [tables.papers_table(self.frame, self.joined, self.parameters.table_library)])

    def digest(self) -> None:
        """The newest papers, as `topic-report digest` writes them."""
        limit = self.parameters.digest_limit or self.topic.digest_limit
        self._show(lambda: [
            f'<div class="digest">{digest_html(render_digest(self.topic.name, self.papers[:limit]))}</div>'])

    def announcements(self) -> None:
        """Each listing day of the window: what arXiv announced in the topic's categories, what
        matches the topic, what it holds and what is pending (helpers/audit.py); a day without an
        announcement says why, a day no run read says so, in other words than a gap."""
        display(HTML(audit_html(self.data.audit)))

    def _show(self, parts: Callable[[], list[Figure | str]]) -> None:
        """Display a section's parts (figures, HTML); nothing without papers ("What is new" says so)."""
        if self.empty:
            return
        for part in parts():
            if isinstance(part, Figure):
                display(SVG(charts.svg(part), metadata={"alt": part.axes[0].get_title(loc="left")}))
            else:
                display(HTML(part))


def audit_html(audit: TopicAudit) -> str:
    """The Coverage section: a summary, then a row per day from the first audited one, newest first."""
    if audit.unauditable:
        return f'<p class="audit-none">Not audited against arXiv\'s announcements: {html.escape(audit.unauditable)}.</p>'
    audited = audit.audited
    if not audited:
        return ('<p class="audit-none">Not audited yet: the next run without dates reads arXiv\'s listing of '
                f'{html.escape(audit.listing.replace("+", ", "))}.</p>')
    first = audited[-1].day
    pending = sorted({paper_id for day in audited for paper_id in day.pending})
    totals = [sum(day.announced for day in audited), sum(day.matching for day in audited),
              sum(day.stored for day in audited)]
    waiting = " (announced, not yet served by arXiv's API: every run asks again)" if pending else ""
    summary = (f'<p class="audit-summary">Checked against arXiv\'s own announcements in '
               f'<strong>{html.escape(audit.listing.replace("+", ", "))}</strong>: {len(audited)} listing '
               f'day{"s" if len(audited) != 1 else ""} since {first:%Y-%m-%d}, {totals[0]:,} papers announced, '
               f'{totals[1]:,} matching the topic, {totals[2]:,} stored, '
               f'<strong>{len(pending)} pending</strong>{waiting}.</p>')
    rows, waiting_list = [], []
    for day in (d for d in audit.days if d.day >= first):
        label = f'<th scope="row"><time datetime="{day.day:%Y-%m-%d}">{day.day:%a} {day.day.day} {day.day:%b}</time></th>'
        if day.audited is None:
            note = (f"No announcement: {day.reason}" if day.reason
                    else "Not audited: no run read arXiv's listing of this day")
            rows.append(f'<tr class="{"quiet" if day.reason else "unaudited"}">{label}<td colspan="4">{html.escape(note)}</td></tr>')
            continue
        waiting_list += [f'<li><a href="{html.escape(abs_url(i))}">{html.escape(i)}</a>, announced {day.day:%a %Y-%m-%d}</li>'
                         for i in day.pending]
        left = f' <span class="audit-note">({day.left} left: a new version no longer matches)</span>' if day.left else ""
        source = ' <span class="audit-note audit-source">OAI-PMH</span>' if day.audited == "oai" else ""
        rows.append(f'<tr class="{"pending" if day.pending else "audited"}">{label}<td>{day.announced:,}{source}</td>'
                    f'<td>{day.matching:,}</td><td>{day.stored:,}{left}</td><td>{len(day.pending)}</td></tr>')
    table = ('<div class="audit-scroll"><table class="audit-days"><thead><tr><th scope="col">Day</th>'
             '<th scope="col">Announ&shy;ced</th><th scope="col">Match&shy;ing</th><th scope="col">Stored</th>'
             f'<th scope="col">Pending</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>')
    pending_html = f'<p class="audit-pending">Pending:</p><ul class="audit-pending">{"".join(waiting_list)}</ul>' if waiting_list else ""
    return f'<div class="audit">{summary}{table}{pending_html}</div>'


def report_style() -> str:
    """report.css as a <style> element: put in an output, it makes the page's elements (headline,
    tables, digest) look in Jupyter as they do on the site."""
    return f"<style>{(SITE_DIR / 'report.css').read_text(encoding='utf-8')}</style>"
