"""A topic's papers to take elsewhere: BibTeX, CSV, JSON and an Atom feed, written beside its page.

Every per-topic output is named `<slug>.<suffix>` (`TOPIC_FILES`), so the site's files of a topic
are `topic_file_names(slug)`. Each export is made from the frame (helpers/frame.py), newest first:

- BibTeX (`.bib`, bibtexparser): one entry per paper, arXiv's style (`@misc`, or `@article` with
  `journal` when the paper has a journal reference; `eprint`, `archivePrefix`, `primaryClass`,
  `url`, `doi`). Titles, names and journal references are LaTeX-escaped (pylatexenc), so they print
  as written: `$\\alpha$` comes out as those characters, not as math, and no text can open a
  command or an unbalanced brace.
- CSV (`.csv`): every field of the frame, lists joined with "; ". UTF-8 with a byte-order mark so
  spreadsheets read it as UTF-8. A cell starting with `=`, `+`, `-`, `@`, tab or carriage return
  gets a leading `'` (OWASP's advice against formula injection): a spreadsheet shows the text
  instead of running it. The JSON keeps every text exactly.
- JSON (`.json`): every field of the frame, lists as arrays, times in ISO 8601 UTC.
- Atom (`.atom`, feedgen): the `FEED_ENTRIES` newest papers. With a site URL
  (`TOPIC_REPORT_SITE_URL`) its id and links are absolute; without, links are relative to the feed.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import uuid
from dataclasses import dataclass
from urllib.parse import urljoin

import bibtexparser
import pandas as pd
from markupsafe import Markup, escape
from bibtexparser.middlewares import default_unparse_stack
from bibtexparser.model import Entry, Field
from feedgen.feed import FeedGenerator
from pylatexenc.latexencode import RULE_DICT, UnicodeToLatexConversionRule, UnicodeToLatexEncoder

from topic_report.arxiv import links
from topic_report.store import ARXIV_ID, utc_now
from topic_report.topics import Topic

FEED_ENTRIES = 50


@dataclass(frozen=True)
class TopicFile:
    """One kind of per-topic output: `<slug>.<suffix>`."""

    suffix: str
    label: str        # the link's text
    media_type: str
    download: bool    # a file to save, rather than a page to open or a feed to subscribe to


PAGE = TopicFile("html", "page", "text/html", download=False)
DIGEST = TopicFile("md", "markdown digest", "text/markdown", download=False)
FEED = TopicFile("atom", "Atom feed", "application/atom+xml", download=False)
BIBTEX = TopicFile("bib", "BibTeX", "application/x-bibtex", download=True)
CSV = TopicFile("csv", "CSV", "text/csv", download=True)
JSON = TopicFile("json", "JSON", "application/json", download=True)
# Every file the build writes per topic, beside its page. Stale-page removal goes by this list.
TOPIC_FILES = (PAGE, DIGEST, FEED, BIBTEX, CSV, JSON)
EXPORTS = (FEED, BIBTEX, CSV, JSON)
# Quarto puts a page's figures into this folder beside it.
QUARTO_FIGURES = "{slug}_files"


def file_name(slug: str, kind: TopicFile) -> str:
    return f"{slug}.{kind.suffix}"


def topic_file_names(slug: str) -> list[str]:
    """The names of every file and folder the site holds for one topic."""
    return [file_name(slug, kind) for kind in TOPIC_FILES] + [QUARTO_FIGURES.format(slug=slug)]


def links_html(slug: str, kinds: tuple[TopicFile, ...] = (DIGEST, *EXPORTS), lead: str = "") -> Markup:
    """One line of links to the topic's files, after `lead`; exports to save carry `download`."""
    links = (f'<a href="{escape(file_name(slug, kind))}" type="{kind.media_type}"{" download" if kind.download else ""}>'
             f"{kind.label}</a>" for kind in kinds)
    lead = f'<span class="topic-links-lead">{escape(lead)}</span>' if lead else ""
    return Markup(f'<p class="topic-links">{lead}{"".join(links)}</p>')


def abs_url(paper_id: str) -> str | None:
    """The paper's arXiv page (its newest version), if the id is of arXiv's own form."""
    return links.abs_url(paper_id) if ARXIV_ID.fullmatch(paper_id) else None


def export_files(topic: Topic, frame: pd.DataFrame, site_url: str | None = None,
                 exported: dict[str, str] | None = None) -> dict[str, bytes]:
    """The topic's exports: file name → content (`exported`: the BibTeX keys given before)."""
    slug = topic.slug
    return {
        file_name(slug, FEED): atom_feed(topic, frame, site_url),
        file_name(slug, BIBTEX): bibtex(frame, exported).encode("utf-8"),
        file_name(slug, CSV): csv_text(frame).encode("utf-8-sig"),
        file_name(slug, JSON): json_text(topic, frame).encode("utf-8"),
    }


# --- BibTeX --------------------------------------------------------------------------------------

# Braces become commands without braces of their own at the text's level: BibTeX counts `\{` as
# an opening brace, so an unbalanced one would swallow the entries after it.
_LATEX = UnicodeToLatexEncoder(
    conversion_rules=[
        UnicodeToLatexConversionRule(RULE_DICT, {ord("{"): r"\textbraceleft{}", ord("}"): r"\textbraceright{}",
                                                 ord('"'): r"\textquotedbl{}"}),  # not '' (a closing quote)
        "defaults",
    ],
    non_ascii_only=False, replacement_latex_protection="braces-all",
    unknown_char_policy="keep", unknown_char_warning=False)
# Crossref's pattern, which 99% of DOIs match: such a DOI needs no escaping (biblatex reads it verbatim).
_PLAIN_DOI = re.compile(r"10\.\d{4,9}/[-._;()/:A-Za-z0-9]+")
_AND = re.compile(r"\band\b", re.IGNORECASE)
_KEY_STOPWORDS = {"a", "an", "the", "on", "of", "for", "in", "to", "and", "with", "via", "from", "by", "is", "are",
                  "towards", "toward", "at", "as"}


def latex(text: str) -> str:
    """Text as LaTeX that prints as written."""
    return _LATEX.unicode_to_latex(text)


def bibtex_name(name: str) -> str:
    """One author for BibTeX's author list: escaped, with a word "and" or a comma in the name braced so
    BibTeX neither splits it into two authors nor reads it as "Last, First"."""
    escaped = _AND.sub(lambda word: "{" + word.group(0) + "}", latex(name))
    return "{" + escaped + "}" if "," in escaped else escaped


def _ascii_word(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower())


def citation_key(first_author: str, year: int, title: str) -> str:
    """Google Scholar's style: first author's last name, year, first significant word of the title."""
    names = [_ascii_word(part) for part in first_author.split()]
    last = next((name for name in reversed(names) if name), "anonymous")
    words = [_ascii_word(word) for word in title.split()]
    word = next((w for w in words if w and w not in _KEY_STOPWORDS), "")
    return f"{last}{year}{word}"


def citation_keys(frame: pd.DataFrame, exported: dict[str, str] | None = None) -> list[str]:
    """Unique keys, in the frame's order. A paper exported before keeps its key (`exported`, per
    paper id: Store.citation_keys); a new one takes its own key, or, where another paper has it,
    the first free letter after it, given in order of arXiv id. So a key, once exported, names the
    same paper forever, whatever paper joins later."""
    exported = exported or {}
    taken = set(exported.values())
    keys = dict(exported)
    rows = sorted(zip(frame["id"], frame["first_author"], frame["published"], frame["title"]))
    for paper_id, author, published, title in rows:
        if paper_id in keys:
            continue
        base = key = citation_key(author, published.year, title)
        letter = 0
        while key in taken:
            letter += 1
            key = base + _letters(letter)
        keys[paper_id] = key
        taken.add(key)
    return [keys[paper_id] for paper_id in frame["id"]]


def _letters(n: int) -> str:
    """1 → b, 2 → c, …, 25 → z, 26 → za …: the second, third … paper of one key."""
    return "z" * (n // 26) + "abcdefghijklmnopqrstuvwxyz"[n % 26]


def _given(value) -> str | None:
    """An optional text field of the frame (None, or NaN where pandas filled a gap), as text or None."""
    return value if isinstance(value, str) and value else None


def bibtex(frame: pd.DataFrame, exported: dict[str, str] | None = None) -> str:
    """One entry per paper; keys as citation_keys gives them."""
    entries = []
    for key, paper in zip(citation_keys(frame, exported), frame.itertuples(index=False)):
        journal_ref, doi = _given(paper.journal_ref), _given(paper.doi)
        fields = [Field("title", latex(paper.title)),
                  Field("author", " and ".join(bibtex_name(name) for name in paper.authors)),
                  Field("year", str(paper.published.year))]
        if journal_ref:
            fields.append(Field("journal", latex(journal_ref)))
        fields += [Field("eprint", latex(paper.id)), Field("archivePrefix", "arXiv"),
                   Field("primaryClass", latex(paper.primary_category))]
        url = abs_url(paper.id)
        if url:
            fields.append(Field("url", url))
        if doi:
            fields.append(Field("doi", doi if _PLAIN_DOI.fullmatch(doi) else latex(doi)))
        entries.append(Entry("article" if journal_ref else "misc", key, fields))
    layout = bibtexparser.BibtexFormat()
    layout.indent, layout.block_separator = "  ", "\n"
    # The library is ours alone: written in place, without bibtexparser's defensive copy of every entry.
    return bibtexparser.write_string(bibtexparser.Library(entries), bibtex_format=layout,
                                     unparse_stack=default_unparse_stack(allow_inplace_modification=True))


# --- CSV and JSON --------------------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse_formula(cell: str) -> str:
    """A cell a spreadsheet would run as a formula, made text."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _plain(value):
    """A frame value as JSON: times in ISO 8601 UTC, lists as lists, missing as None."""
    if isinstance(value, pd.Timestamp):
        return value.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return None if value is None or value is pd.NA or (isinstance(value, float) and value != value) else value


def records(frame: pd.DataFrame) -> list[dict]:
    return [{column: _plain(value) for column, value in zip(frame.columns, row)}
            for row in frame.itertuples(index=False)]


def csv_text(frame: pd.DataFrame) -> str:
    """Every paper, every field; lists joined with "; "; formula starts defused."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(frame.columns)
    for record in records(frame):
        cells = ["; ".join(map(str, value)) if isinstance(value, list) else "" if value is None else str(value)
                 for value in record.values()]
        writer.writerow([defuse_formula(cell) for cell in cells])
    return out.getvalue()


def json_text(topic: Topic, frame: pd.DataFrame) -> str:
    document = {"topic": topic.name, "slug": topic.slug, "papers": len(frame), "fields": list(frame.columns),
                "records": records(frame)}
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


# --- Atom ----------------------------------------------------------------------------------------

# Characters XML 1.0 cannot hold at all.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
ARXIV_SCHEME = "http://arxiv.org/schemas/atom"


def _xml(text: str | None) -> str:
    return _NOT_XML.sub("", text or "")


def atom_feed(topic: Topic, frame: pd.DataFrame, site_url: str | None = None) -> bytes:
    """The `FEED_ENTRIES` newest papers as an Atom feed."""
    base = site_url or ""
    feed_url = urljoin(base, file_name(topic.slug, FEED))
    newest = frame.head(FEED_ENTRIES)
    feed = FeedGenerator()
    # An Atom id must be an absolute IRI and must not change: the feed's address when known, else
    # a name-based UUID of the topic's slug.
    feed.id(feed_url if site_url else uuid.uuid5(uuid.NAMESPACE_URL, f"topic-report:{topic.slug}").urn)
    feed.title(_xml(f"{topic.name}: newest arXiv papers"))
    feed.author({"name": "topic-report"})
    feed.link(href=feed_url, rel="self", type=FEED.media_type)
    page_url = urljoin(base, file_name(topic.slug, PAGE))
    feed.link(href=page_url, rel="alternate", type=PAGE.media_type)
    feed.generator("topic-report")
    # The newest change among its papers, so an unchanged topic's feed stays byte for byte the same.
    feed.updated(newest["updated"].max().to_pydatetime() if len(newest) else utc_now())
    for paper in newest.itertuples(index=False):
        entry = feed.add_entry(order="append")
        url = abs_url(paper.id)
        entry.id(url or uuid.uuid5(uuid.NAMESPACE_URL, f"arxiv:{paper.id}").urn)
        entry.title(_xml(paper.title) or "(untitled)")
        entry.link(href=url or page_url, rel="alternate", type=PAGE.media_type)
        if url:
            entry.link(href=paper.pdf_url, rel="related", type="application/pdf", title="PDF")
        entry.summary(_xml(paper.abstract))
        for name in paper.authors:
            if _xml(name).strip():
                entry.author({"name": _xml(name)})
        for category in paper.categories:
            if _xml(category).strip():
                entry.category(term=_xml(category), scheme=ARXIV_SCHEME)
        entry.published(paper.published.to_pydatetime())
        entry.updated(paper.updated.to_pydatetime())
    return feed.atom_str(pretty=True)
