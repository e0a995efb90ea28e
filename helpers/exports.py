"""A topic's papers to take elsewhere: BibTeX, CSV, JSON and an Atom feed, written beside its page
(named as helpers/topic_files.py says). Each export is made from the frame (helpers/frame.py), newest first:

- BibTeX (`.bib`, bibtexparser): one entry per paper, arXiv's style (`@misc`, or `@article` with
  `journal` when the paper has a journal reference; `eprint`, `archivePrefix`, `primaryClass`,
  `url`, `doi`), with the abstract. Titles, abstracts, names and journal references are
  LaTeX-escaped (pylatexenc), so they print as written: `$\\alpha$` comes out as those characters,
  not as math, and no text can open a command or an unbalanced brace. Titles are braced once more,
  so styles keep their capitals ("NeRF", "3D"); DOIs are written verbatim (biblatex reads them so).
- CSV (`.csv`): every field of the frame, lists joined with "; "; ids as `arXiv:2606.31050`, so
  that spreadsheets and pandas keep them text (2606.31050 would become the number 2606.3105).
  UTF-8 with a byte-order mark so spreadsheets read it as UTF-8. A cell starting with `=`, `+`, `-`, `@`, tab or carriage return
  gets a leading `'` (OWASP's advice against formula injection): a spreadsheet shows the text
  instead of running it. The JSON keeps every text exactly.
- JSON (`.json`): every field of the frame, lists as arrays, times in ISO 8601 UTC.
- RIS (`.ris`, rispy): the same entries as the BibTeX for reference managers that read RIS
  (Zotero, EndNote, Mendeley): `UNPB` (`JOUR` with a journal reference), every value one line.
- COinS (`coins`): one paper's citation inside a page, for Zotero's browser connector.
- Atom (`.atom`, feedgen): the `FEED_ENTRIES` newest papers. With a site URL
  (`TOPIC_REPORT_SITE_URL`) its id and links are absolute; without, links are relative to the feed.

Beside the index, for every topic at once (`site_files`): `all.atom`, the `FEED_ENTRIES` newest
papers of all topics, and `feeds.opml`, every topic's feed, for a feed reader to subscribe to all in one step.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import unicodedata
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time
from pathlib import Path
from typing import NamedTuple, TextIO
from urllib.parse import urlencode, urljoin

import bibtexparser
import pandas as pd
import rispy
from bibtexparser.middlewares import default_unparse_stack
from bibtexparser.model import Entry, Field
from feedgen.feed import FeedGenerator
from markupsafe import Markup, escape
from pylatexenc.latexencode import RULE_DICT, UnicodeToLatexConversionRule, UnicodeToLatexEncoder

from topic_report.characters import PerCharacter
from topic_report.frame import papers_frame
from topic_report.topic_files import ALL_FEED, BIBTEX, CSV, FEED, FEED_LIST, INDEX, JSON, PAGE, RIS, abs_url, file_name
from topic_report.topics import ARXIV_FIRST_DAY, Topic

FEED_ENTRIES = 50


def coins(paper) -> Markup:
    """A paper's citation as COinS, an OpenURL ContextObject in an empty span's title: what Zotero's
    COinS translator (and other reference managers') reads on any page. `paper` is a frame row."""
    values = [("ctx_ver", "Z39.88-2004"), ("rft_val_fmt", "info:ofi/fmt:kev:mtx:journal"), ("rft.genre", "preprint"),
              ("rft.atitle", one_line(paper.title)), *(("rft.au", name) for name in map(one_line, paper.authors) if name),
              ("rft.date", f"{paper.published:%Y-%m-%d}"), ("rft.jtitle", "arXiv")]
    url, doi = abs_url(paper.id), _given(paper.doi)
    if url:
        values.append(("rft_id", url))
    if doi:
        values.append(("rft_id", f"info:doi/{one_line(doi)}"))
    return Markup(f'<span class="Z3988" title="{escape(urlencode(values))}"></span>')


class ExportWriter(NamedTuple):
    encoding: str
    write: Callable[[TextIO], None]  # writes the export's text, piece by piece, into a text file


def export_writers(topic: Topic, frame: pd.DataFrame, site_url: str | None,
                   exported: dict[str, str] | None) -> dict[str, ExportWriter]:
    """The topic's exports: file name → how to write it."""
    slug = topic.slug
    return {
        file_name(slug, FEED): ExportWriter("utf-8", lambda out: out.write(atom_feed(topic, frame, site_url).decode("utf-8"))),
        file_name(slug, BIBTEX): ExportWriter("utf-8", lambda out: write_bibtex(frame, out, exported)),
        file_name(slug, RIS): ExportWriter("utf-8", lambda out: write_ris(frame, out)),
        file_name(slug, CSV): ExportWriter("utf-8-sig", lambda out: write_csv(frame, out)),
        file_name(slug, JSON): ExportWriter("utf-8", lambda out: write_json(topic, frame, out)),
    }


def export_files(topic: Topic, frame: pd.DataFrame, site_url: str | None = None,
                 exported: dict[str, str] | None = None) -> dict[str, bytes]:
    """The topic's exports: file name → content (`exported`: the BibTeX keys given before)."""
    return {name: _text(export.write).encode(export.encoding)
            for name, export in export_writers(topic, frame, site_url, exported).items()}


def write_exports(topic: Topic, frame: pd.DataFrame, folder: Path, site_url: str | None = None,
                  exported: dict[str, str] | None = None) -> list[str]:
    """The topic's exports (as export_files), each streamed into its file in `folder`, never whole
    in memory: their names."""
    exports = export_writers(topic, frame, site_url, exported)
    for name, export in exports.items():
        with open(folder / name, "w", encoding=export.encoding, newline="") as out:
            export.write(out)
    return list(exports)


def _text(write: Callable[[TextIO], None]) -> str:
    out = io.StringIO(newline="")
    write(out)
    return out.getvalue()


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


# Every rule of _LATEX maps one character, and "braces-all" protects each replacement alone: the
# LaTeX of a (normalized) text is that of each of its characters, asked of the encoder once each.
_LATEX_OF = PerCharacter(_LATEX.unicode_to_latex)
# biblatex reads a DOI verbatim, so it is written as it is; only braces and backslashes, which BibTeX
# itself would take as structure, make one escaped instead.
_NOT_VERBATIM = set("{}\\")
_AND = re.compile(r"\band\b", re.IGNORECASE)
_KEY_STOPWORDS = {"a", "an", "the", "on", "of", "for", "in", "to", "and", "with", "via", "from", "by", "is", "are",
                  "towards", "toward", "at", "as"}


def latex(text: str) -> str:
    """Text as LaTeX that prints as written (as _LATEX writes it, which normalizes to NFC first)."""
    return unicodedata.normalize("NFC", text).translate(_LATEX_OF)


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
    rows = sorted(zip(frame["id"], frame["first_author"], frame["published"], frame["title"], strict=False))
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


# Entries written at once: the text of this many stays in memory while a file is written.
BIBTEX_ENTRIES_AT_ONCE = 500


def bibtex(frame: pd.DataFrame, exported: dict[str, str] | None = None) -> str:
    """One entry per paper; keys as citation_keys gives them."""
    return _text(lambda out: write_bibtex(frame, out, exported))


def write_bibtex(frame: pd.DataFrame, out: TextIO, exported: dict[str, str] | None = None) -> None:
    """bibtex(frame, exported), written into `out` BIBTEX_ENTRIES_AT_ONCE entries at a time."""
    layout = bibtexparser.BibtexFormat()
    layout.indent, layout.block_separator = "  ", "\n"
    entries = _bibtex_entries(frame, exported)
    written = False
    while chunk := list(itertools.islice(entries, BIBTEX_ENTRIES_AT_ONCE)):
        if written:
            out.write(layout.block_separator)
        # The library is ours alone: written in place, without bibtexparser's defensive copy of every entry.
        out.write(bibtexparser.write_string(bibtexparser.Library(chunk), bibtex_format=layout,
                                            unparse_stack=default_unparse_stack(allow_inplace_modification=True)))
        written = True


def _bibtex_entries(frame: pd.DataFrame, exported: dict[str, str] | None) -> Iterator[Entry]:
    for key, paper in zip(citation_keys(frame, exported), frame.itertuples(index=False), strict=False):
        journal_ref, doi = _given(paper.journal_ref), _given(paper.doi)
        fields = [Field("title", "{" + latex(paper.title) + "}"),
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
            fields.append(Field("doi", latex(doi) if _NOT_VERBATIM & set(doi) else doi))
        if paper.abstract:
            fields.append(Field("abstract", latex(paper.abstract)))
        yield Entry("article" if journal_ref else "misc", key, fields)


# --- RIS -----------------------------------------------------------------------------------------

_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_LINE_BREAKING = PerCharacter(lambda char: " " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char)


def one_line(text: str | None) -> str:
    """Untrusted text as one plain line: control and reordering characters out (bidirectional
    controls, zero-width marks), white space single. Line-based formats (RIS, mail's text part)
    then cannot be made to start a line, a record or a header of the text's own."""
    return " ".join(_INVISIBLE.sub("", text or "").translate(_LINE_BREAKING).split())


def ris(frame: pd.DataFrame) -> str:
    """One RIS record per paper, each value one line."""
    return _text(lambda out: write_ris(frame, out))


def write_ris(frame: pd.DataFrame, out: TextIO) -> None:
    """ris(frame), written into `out` line by line."""
    rispy.dump(_ris_records(frame), out)


def _ris_records(frame: pd.DataFrame) -> list[dict]:
    records = []
    for paper in frame.itertuples(index=False):
        journal_ref, doi = _given(paper.journal_ref), _given(paper.doi)
        record = {"type_of_reference": "JOUR" if journal_ref else "UNPB", "title": one_line(paper.title),
                  "authors": [name for name in map(one_line, paper.authors) if name],
                  "year": str(paper.published.year), "date": f"{paper.published:%Y/%m/%d}/",
                  "abstract": one_line(paper.abstract), "keywords": [one_line(c) for c in paper.categories],
                  "accession_number": one_line(f"arXiv:{paper.id}"), "name_of_database": "arXiv"}
        url = abs_url(paper.id)
        if url:
            record["urls"] = [url]
        if journal_ref:
            record["journal_name"] = one_line(journal_ref)
        if doi:
            record["doi"] = one_line(doi)
        records.append(record)
    return records


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


def _plain_column(column: pd.Series) -> list:
    """A column's values as _plain makes them; times formatted all at once."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        column = column.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return [_plain(value) for value in column.tolist()]


def records(frame: pd.DataFrame) -> Iterator[dict]:
    """Each paper as a record of plain values (_plain), one at a time."""
    names = list(frame.columns)
    for row in zip(*(_plain_column(frame[name]) for name in names), strict=True):
        yield dict(zip(names, row, strict=True))


def csv_text(frame: pd.DataFrame) -> str:
    """Every paper, every field; ids as `arXiv:<id>`; lists joined with "; "; formula starts defused."""
    return _text(lambda out: write_csv(frame, out))


def write_csv(frame: pd.DataFrame, out: TextIO) -> None:
    """csv_text(frame), written into `out` row by row."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(frame.columns)
    for record in records(frame):
        record["id"] = f"arXiv:{record['id']}"
        cells = ["; ".join(map(str, value)) if isinstance(value, list) else "" if value is None else str(value)
                 for value in record.values()]
        writer.writerow([defuse_formula(cell) for cell in cells])


def json_text(topic: Topic, frame: pd.DataFrame) -> str:
    """{"topic", "slug", "papers", "fields", "records"}, indented by one space."""
    return _text(lambda out: write_json(topic, frame, out))


def write_json(topic: Topic, frame: pd.DataFrame, out: TextIO) -> None:
    """json_text(topic, frame), written into `out` record by record: the document without its
    records, then each record at the records' depth (two spaces), as json.dumps(indent=1) lays them."""
    head = json.dumps({"topic": topic.name, "slug": topic.slug, "papers": len(frame), "fields": list(frame.columns),
                       "records": []}, ensure_ascii=False, indent=1)
    if frame.empty:
        out.write(head + "\n")
        return
    out.write(head.removesuffix("]\n}") + "\n")
    for number, record in enumerate(records(frame)):
        text = json.dumps(record, ensure_ascii=False, indent=1)
        out.write(("" if number == 0 else ",\n") + "\n".join("  " + line for line in text.split("\n")))
    out.write("\n ]\n}\n")


# --- Atom ----------------------------------------------------------------------------------------

# Characters XML 1.0 cannot hold at all.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
ARXIV_SCHEME = "http://arxiv.org/schemas/atom"


def _xml(text: str | None) -> str:
    return _NOT_XML.sub("", text or "")


def atom_feed(topic: Topic, frame: pd.DataFrame, site_url: str | None = None) -> bytes:
    """The topic's `FEED_ENTRIES` newest papers as an Atom feed."""
    return _atom(f"topic-report:{topic.slug}", f"{topic.name}: newest arXiv papers", file_name(topic.slug, FEED),
                 file_name(topic.slug, PAGE), frame, site_url)


def site_files(topics: list[Topic], frames: list[pd.DataFrame], site_url: str | None = None) -> dict[str, bytes]:
    """What the site holds for every topic at once, beside the index: file name → content."""
    every = pd.concat(frames) if frames else papers_frame([], "")
    newest = every.sort_values(["published", "id"], ascending=False).drop_duplicates("id")
    return {ALL_FEED: _atom("topic-report:all", "Every topic: newest arXiv papers", ALL_FEED, INDEX, newest, site_url),
            FEED_LIST: feed_list(topics, site_url)}


def feed_list(topics: list[Topic], site_url: str | None = None) -> bytes:
    """OPML 2.0: one outline per topic's feed, and the feed of every topic."""
    base = site_url or ""
    opml = ElementTree.Element("opml", version="2.0")
    ElementTree.SubElement(ElementTree.SubElement(opml, "head"), "title").text = "topic-report: every topic's feed"
    body = ElementTree.SubElement(opml, "body")
    feeds = [("Every topic", ALL_FEED, INDEX)] + [(t.name, file_name(t.slug, FEED), file_name(t.slug, PAGE))
                                                  for t in topics]
    for name, feed, page in feeds:
        ElementTree.SubElement(body, "outline", type="rss", text=_xml(name), title=_xml(name),
                               xmlUrl=urljoin(base, feed), htmlUrl=urljoin(base, page))
    ElementTree.indent(opml)
    return ElementTree.tostring(opml, encoding="utf-8", xml_declaration=True) + b"\n"


def _atom(name: str, title: str, feed_name: str, page_name: str, frame: pd.DataFrame, site_url: str | None) -> bytes:
    """The `FEED_ENTRIES` first papers of `frame` as an Atom feed."""
    base = site_url or ""
    feed_url = urljoin(base, feed_name)
    newest = frame.head(FEED_ENTRIES)
    feed = FeedGenerator()
    # An Atom id must be an absolute IRI and must not change: the feed's address when known, else
    # a name-based UUID of `name`.
    feed.id(feed_url if site_url else uuid.uuid5(uuid.NAMESPACE_URL, name).urn)
    feed.title(_xml(title))
    feed.author({"name": "topic-report"})
    feed.link(href=feed_url, rel="self", type=FEED.media_type)
    page_url = urljoin(base, page_name)
    feed.link(href=page_url, rel="alternate", type=PAGE.media_type)
    feed.generator("topic-report")
    # The newest change among its papers, so an unchanged topic's feed stays byte for byte the same;
    # a topic without papers has had no change since arXiv's first day.
    feed.updated(newest["updated"].max().to_pydatetime() if len(newest)
                 else datetime.combine(ARXIV_FIRST_DAY, time.min, UTC))
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
