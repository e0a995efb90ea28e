"""A loopback emulator of the arXiv API (`/api/query`) for tests, benchmarks and demos.

It answers the way export.arxiv.org does, in the API's present Atom format:

- A request whose parameters (search_query, id_list, start, max_results, sortBy, sortOrder,
  absent ones at their defaults) equal those of a recorded response in RECORDED_DIR gets that
  response verbatim.
- Any other request is answered from the emulator's paper list (dicts in the corpus schema of
  ../shared/corpora/README.md, plus optional journal_ref, doi and affiliations).

Query semantics, as far as this project's client uses them:

- Terms are `field:value` (fields ti, abs, au, cat, all, co, jr, id) or a bare value, which
  means `all:` (ti, abs, au or co). A value is a word or a "double-quoted phrase". Text
  matching is case-insensitive on words (runs of letters and digits): a value matches where
  its words appear consecutively in one field (one author name, for au), so "3D
  reconstruction" matches "3D-Reconstruction" and `net` does not match "network". `cat:`
  matches one of the paper's categories exactly, `id:` its id with or without version.
- `submittedDate:[FROM TO UNTIL]` (and `lastUpdatedDate:`) compare `published` (`updated`)
  inclusively; bounds have 8, 12 or 14 digits (YYYYMMDD[HHMM[SS]]) and an upper bound covers
  the whole day or minute it names.
- Operators AND, ANDNOT and OR, left-associative, with AND and ANDNOT binding tighter than OR;
  parentheses group. Adjacent terms without an operator are an error, as is anything else
  that does not parse: HTTP 400 with an error feed whose summary says why.
- id_list: comma-separated ids, with or without version (a version is accepted but the stored
  record is served); a malformed id is HTTP 400. With a search_query too, only the listed
  papers that match it are served.
- Sorting: submittedDate and lastUpdatedDate order by date, ties by id in the same direction;
  relevance is the order of id_list, else the order the papers were given (ascending reverses).
- Paging: start (default 0), max_results (default 10, at most 2000 a page); nothing beyond
  the 30,000th result is served, while totalResults stays the true count.
- Time, as arXiv's index sees it: a paper record may carry `visible_from` (ISO 8601), the moment
  it first shows up in answers (announced late, held in moderation, the index lagging); until
  then it is not served. Several versions of one id may be given (each with its own `updated`
  and `visible_from`): the newest visible one is served, as arXiv serves only the latest
  version. `clock` is the emulator's now (default: the real time; set it to any moment, the
  future too); it decides what is visible and is the feeds' `updated`.

- Author feeds, as arXiv serves them at https://arxiv.org/a/<id>.atom2 for an arXiv author
  identifier (drettakis_g_1) or an ORCID iD linked to an account: `/a/<id>.atom2` is an Atom
  feed of every paper the account claims (`ArxivEmulator.claim(id, paper_ids)`), newest first,
  without OpenSearch elements; an identifier nobody registered is HTTP 404.

Announcements, as arXiv's daily listing and its OAI-PMH interface show them:

- A version may carry `announced` (YYYY-MM-DD): the listing day that announced it (the morning
  after arXiv's 20:00 New York announcement). A moderation hold is an `announced` days or weeks
  after `published`; a search index lagging the announcement is a `visible_from` after it.
- `/rss/<cat>+<cat>` is the listing in force at the clock (its day: the clock's date in New York),
  in arXiv's RSS 2.0 format ("RSS feed specifications", arXiv/arxiv-docs
  source/help/rss_specifications.md): a channel whose `pubDate` is the announcement date, an item
  per version announced that day in one of the categories, with `arxiv:announce_type` new or
  replace where its primary category is one of them, cross or replace-cross otherwise. It is
  empty (a channel with `skipDays`, no items) on Saturday, Sunday and the days in `holidays`.
- `/oai?verb=ListRecords&metadataPrefix=arXivRaw&set=…&from=…&until=…` lists, per paper of the set
  (cs:cs:CV, physics:hep-th …; cross-lists included), its newest version announced by the clock,
  if that announcement falls between `from` and `until` (the record's datestamp, OAI-PMH 2.0
  §3.3.1; arXiv/arxiv-docs source/help/oa/index.md), `oai_page_size` records a page, the rest
  behind a `resumptionToken` (§3.5); `noRecordsMatch`, `badArgument`, `badResumptionToken` and
  `cannotDisseminateFormat` errors as the protocol defines them.

Faults can be queued for the next requests (`ArxivEmulator.fault`) and every request is
logged (`ArxivEmulator.requests`). Run it by hand or for benchmarks:
`python tests/arxiv_server.py --jsonl FILE --atom FILE --port 8080`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime
from http.client import responses
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

from lxml import etree

SHARED_DIR = Path(os.environ.get("TOPIC_REPORT_SHARED") or Path(__file__).resolve().parents[1].parent / "shared")
RECORDED_DIR = SHARED_DIR / "arxiv-recorded"

API_PATH = "/api/query"
AUTHOR_PATH = re.compile(r"^/a/(?P<id>[^/]+)\.atom2$")
RSS_PATH = "/rss/"
OAI_PATH = "/oai"
OAI_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 2000
MAX_RESULTS_PER_QUERY = 30_000
FAULT_KINDS = {
    "status": {"code", "retry_after"},
    "hang": set(),
    "empty_page": {"total_zero"},
    "truncated": set(),
    "reset": set(),
}

ATOM_NS = "http://www.w3.org/2005/Atom"
ARXIV_NS = "http://arxiv.org/schemas/atom"
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"
_A, _AX, _OS = f"{{{ATOM_NS}}}", f"{{{ARXIV_NS}}}", f"{{{OPENSEARCH_NS}}}"
_NSMAP = {"opensearch": OPENSEARCH_NS, "arxiv": ARXIV_NS, None: ATOM_NS}
_ATOM_TYPE = "application/atom+xml; charset=utf-8"

_ENTRY_ID = re.compile(r"arxiv\.org/abs/(?P<id>.+)v(?P<version>\d+)$")
_ARXIV_ID = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$")
ARXIV_TIME = ZoneInfo("America/New_York")
OAI_NS = "http://www.openarchives.org/OAI/2.0/"
RAW_NS = "http://arxiv.org/OAI/arXivRaw/"
_RSS_TYPE = "application/rss+xml; charset=utf-8"
_XML_TYPE = "text/xml; charset=utf-8"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_WORD = re.compile(r"[^\W_]+")


# --- loaders -------------------------------------------------------------------------------


def load_jsonl(path: str | Path) -> list[dict]:
    """Papers of a corpus file (JSON Lines, one paper a line)."""
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def load_atom(source: str | Path | bytes) -> list[dict]:
    """Papers of an Atom document in the API's format (a path, or the document's bytes).

    Text is kept as served. comment, journal_ref and doi appear only when present, and
    affiliations (one list per author) only when some author has one. Error entries, which
    are not papers, are skipped. A malformed document raises lxml's XMLSyntaxError.
    """
    data = source if isinstance(source, (bytes, bytearray)) else Path(source).read_bytes()
    return _papers(_parse_xml(data))


def _parse_xml(data: bytes) -> etree._Element:
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))


def _papers(feed: etree._Element) -> list[dict]:
    papers = []
    for entry in feed.iterfind(_A + "entry"):
        match = _ENTRY_ID.search(entry.findtext(_A + "id") or "")
        if not match:
            continue
        authors = entry.findall(_A + "author")
        paper = {
            "id": match["id"],
            "version": int(match["version"]),
            "title": entry.findtext(_A + "title"),
            "authors": [author.findtext(_A + "name") for author in authors],
            "abstract": entry.findtext(_A + "summary"),
            "published": entry.findtext(_A + "published"),
            "updated": entry.findtext(_A + "updated"),
            "categories": [c.get("term") for c in entry.iterfind(_A + "category")],
            "primary_category": entry.find(_AX + "primary_category").get("term"),
        }
        for key in ("comment", "journal_ref", "doi"):
            value = entry.findtext(_AX + key)
            if value is not None:
                paper[key] = value
        affiliations = [[a.text for a in author.iterfind(_AX + "affiliation")] for author in authors]
        if any(affiliations):
            paper["affiliations"] = affiliations
        papers.append(paper)
    return papers


# --- Atom writer ---------------------------------------------------------------------------


def atom_feed(
    papers: Iterable[dict],
    total: int,
    start: int,
    items_per_page: int | None = None,
    search_query: str = "",
    id_list: str = "",
    now: datetime | None = None,
) -> bytes:
    """One page of results as the API serves it (items_per_page defaults to the page's length)."""
    papers = list(papers)
    size = len(papers) if items_per_page is None else items_per_page
    feed = etree.Element(_A + "feed", nsmap=_NSMAP)
    title = f"search_query={search_query}&id_list={id_list}&start={start}&max_results={size}"
    digest = base64.b64encode(hashlib.sha1(title.encode()).digest()).decode().rstrip("=")
    _add(feed, _A + "id", f"https://arxiv.org/api/{digest}")
    _add(feed, _A + "title", f"arXiv Query: {title}")
    _add(feed, _A + "updated", _iso_utc(now) if now else _now())
    href = f"https://arxiv.org/api/query?search_query={search_query}&start={start}&max_results={size}&id_list={id_list}"
    _add(feed, _A + "link", href=href, type="application/atom+xml")
    _add(feed, _OS + "itemsPerPage", str(size))
    _add(feed, _OS + "totalResults", str(total))
    _add(feed, _OS + "startIndex", str(start))
    for paper in papers:
        _entry(feed, paper)
    return _serialize(feed)


def author_feed(author_id: str, papers: Iterable[dict], now: datetime | None = None) -> bytes:
    """An author's papers as arXiv's /a/<id>.atom2 feed serves them."""
    feed = etree.Element(_A + "feed", nsmap=_NSMAP)
    _add(feed, _A + "title", f"{author_id}'s articles on arXiv")
    _add(feed, _A + "link", href=f"https://arxiv.org/a/{author_id}.atom2", rel="self", type="application/atom+xml")
    _add(feed, _A + "id", f"https://arxiv.org/a/{author_id}")
    _add(feed, _A + "updated", _iso_utc(now) if now else _now())
    for paper in papers:
        _entry(feed, paper)
    return _serialize(feed)


def error_feed(message: str) -> bytes:
    """The API's error document (served with HTTP 400), e.g. for a malformed id."""
    feed = etree.Element(_A + "feed", nsmap=_NSMAP)
    _add(feed, _A + "id", "https://arxiv.org/")
    _add(feed, _A + "title", "arXiv Search Results")
    _add(feed, _A + "updated", _now())
    _add(feed, _OS + "itemsPerPage", "1")
    _add(feed, _OS + "totalResults", "1")
    _add(feed, _OS + "startIndex", "0")
    entry = _add(feed, _A + "entry")
    anchor = "https://arxiv.org/api/errors#" + re.sub(r"[^\w.-]+", "_", message).strip("_")
    _add(entry, _A + "id", anchor)
    _add(entry, _A + "title", "Error")
    _add(entry, _A + "updated", _now())
    _add(entry, _A + "link", href=anchor, rel="alternate", type="text/html")
    _add(entry, _A + "summary", message)
    _add(_add(entry, _A + "author"), _A + "name", "arXiv api core")
    return _serialize(feed)


def _entry(feed: etree._Element, paper: dict) -> None:
    versioned = f"{paper['id']}v{paper['version']}"
    entry = _add(feed, _A + "entry")
    _add(entry, _A + "id", f"http://arxiv.org/abs/{versioned}")
    _add(entry, _A + "title", paper["title"])
    _add(entry, _A + "updated", _iso(paper["updated"]))
    _add(entry, _A + "link", href=f"https://arxiv.org/abs/{versioned}", rel="alternate", type="text/html")
    _add(entry, _A + "link", href=f"https://arxiv.org/pdf/{versioned}", rel="related", type="application/pdf", title="pdf")
    _add(entry, _A + "summary", paper["abstract"])
    for category in paper["categories"]:
        _add(entry, _A + "category", term=category, scheme=ARXIV_NS)
    _add(entry, _A + "published", _iso(paper["published"]))
    if paper.get("comment"):
        _add(entry, _AX + "comment", paper["comment"])
    _add(entry, _AX + "primary_category", term=paper["primary_category"])
    if paper.get("journal_ref"):
        _add(entry, _AX + "journal_ref", paper["journal_ref"])
    affiliations = paper.get("affiliations") or [[] for _ in paper["authors"]]
    for name, affiliation in zip(paper["authors"], affiliations, strict=False):
        author = _add(entry, _A + "author")
        _add(author, _A + "name", name)
        for place in affiliation:
            _add(author, _AX + "affiliation", place)
    if paper.get("doi"):
        _add(entry, _AX + "doi", paper["doi"])
        _add(entry, _A + "link", rel="related", href=f"https://doi.org/{paper['doi']}", title="doi")


def _add(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    """A child element; text and attributes lose the characters XML 1.0 cannot carry."""
    element = etree.SubElement(parent, tag, {key: _NOT_XML.sub("", value) for key, value in attrib.items()})
    if text is not None:
        element.text = _NOT_XML.sub("", text)
    return element


def _serialize(feed: etree._Element) -> bytes:
    return etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _now() -> str:
    return _iso_utc(datetime.now(UTC))


def _datetime(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _iso(text: str) -> str:
    """An ISO 8601 timestamp as the API writes it: UTC, seconds, `Z`."""
    return _iso_utc(_datetime(text))


def _iso_utc(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _stamp(text: str) -> str:
    """YYYYMMDDHHMMSS, the form submittedDate ranges are compared in."""
    return _iso(text)[:19].replace("-", "").replace(":", "").replace("T", "")


# --- search --------------------------------------------------------------------------------


class QueryError(ValueError):
    """A request the API refuses (HTTP 400); the message is the error feed's summary."""


class _Doc:
    """A paper prepared for matching: word strings per field, category set, date stamps."""

    __slots__ = ("paper", "id", "ids", "categories", "text", "published", "updated", "visible_from")

    def __init__(self, paper: dict):
        self.paper = paper
        self.id = paper["id"]
        self.visible_from = _stamp(paper["visible_from"]) if paper.get("visible_from") else ""
        self.ids = {self.id.lower(), f"{self.id}v{paper['version']}".lower()}
        self.categories = {c.lower() for c in paper["categories"]}
        self.published = _stamp(paper["published"])
        self.updated = _stamp(paper["updated"])
        # " w1 w2 … " per field; " | " keeps a phrase from spanning two authors or two fields.
        text = {
            "ti": _words(paper["title"]),
            "abs": _words(paper["abstract"]),
            "au": " | ".join(_words(name) for name in paper["authors"]),
            "co": _words(paper.get("comment")),
            "jr": _words(paper.get("journal_ref")),
        }
        text["all"] = " | ".join(text[key] for key in ("ti", "abs", "au", "co"))
        self.text = text


def _words(text: str | None) -> str:
    return " " + " ".join(_WORD.findall((text or "").lower())) + " "


_TOKEN = re.compile(
    r'\s*(?:(?P<paren>[()])|(?P<field>\w+):|"(?P<phrase>[^"]*)"|\[(?P<range>[^\]]*)\]|(?P<word>[^\s()"\[\]:]+))'
)
_OPERATORS = {
    "AND": lambda a, b: lambda doc: a(doc) and b(doc),
    "ANDNOT": lambda a, b: lambda doc: a(doc) and not b(doc),
    "OR": lambda a, b: lambda doc: a(doc) or b(doc),
}
_TEXT_FIELDS = {"ti", "abs", "au", "co", "jr", "all"}
_DATE_FIELDS = {"submittedDate": "published", "lastUpdatedDate": "updated"}
_DATE_RANGE = re.compile(r"^\s*(\d{8}|\d{12}|\d{14})\s+TO\s+(\d{8}|\d{12}|\d{14})\s*$")

Predicate = Callable[[_Doc], bool]


@dataclass(frozen=True)
class _Token:
    kind: str  # paren, field, phrase, range, word
    text: str
    pos: int

    def __str__(self) -> str:
        return f"{self.text!r} at position {self.pos}"


def parse_query(query: str) -> Predicate:
    """search_query → predicate on a prepared paper; raises QueryError saying what is wrong."""
    return _Parser(query).parse()


class _Parser:
    """Recursive descent: or := and (OR and)*; and := term ((AND|ANDNOT) term)*;
    term := '(' or ')' | field ':' value | value."""

    def __init__(self, query: str):
        self.tokens = _lex(query)
        self.i = 0

    def parse(self) -> Predicate:
        predicate = self._or()
        if self.i < len(self.tokens):
            raise QueryError(f"malformed search_query: expected AND, OR or ANDNOT, found {self.tokens[self.i]}")
        return predicate

    def _or(self) -> Predicate:
        left = self._and()
        while self._operator({"OR"}):
            left = _OPERATORS["OR"](left, self._and())
        return left

    def _and(self) -> Predicate:
        left = self._term()
        while operator := self._operator({"AND", "ANDNOT"}):
            left = _OPERATORS[operator](left, self._term())
        return left

    def _operator(self, names: set[str]) -> str | None:
        token = self.tokens[self.i] if self.i < len(self.tokens) else None
        if token and token.kind == "word" and token.text in names:
            self.i += 1
            return token.text
        return None

    def _next(self, wanted: str) -> _Token:
        if self.i >= len(self.tokens):
            raise QueryError(f"malformed search_query: expected {wanted}, found the end")
        self.i += 1
        return self.tokens[self.i - 1]

    def _term(self) -> Predicate:
        token = self._next("a term")
        if token.kind == "paren" and token.text == "(":
            inner = self._or()
            closing = self._next("')'")
            if closing.text != ")":
                raise QueryError(f"malformed search_query: expected ')', found {closing}")
            return inner
        if token.kind == "field":
            return _field_predicate(token.text, self._next(f"a value after {token.text}:"))
        if token.kind == "phrase" or (token.kind == "word" and token.text not in _OPERATORS):
            return _field_predicate("all", token)
        raise QueryError(f"malformed search_query: expected a term, found {token}")


def _lex(query: str) -> list[_Token]:
    tokens, pos, query = [], 0, query.rstrip()
    while pos < len(query):
        match = _TOKEN.match(query, pos)
        if not match:
            at = len(query) - len(query[pos:].lstrip())
            raise QueryError(f"malformed search_query: cannot read {query[at:at + 20]!r} at position {at}")
        kind = match.lastgroup
        tokens.append(_Token(kind, match[kind], match.start(kind)))
        pos = match.end()
    return tokens


def _field_predicate(field_name: str, value: _Token) -> Predicate:
    if field_name in _DATE_FIELDS:
        bounds = _DATE_RANGE.match(value.text) if value.kind == "range" else None
        if not bounds:
            raise QueryError(f"malformed search_query: {field_name} needs [YYYYMMDDHHMM TO YYYYMMDDHHMM], found {value}")
        low, high = bounds[1].ljust(14, "0"), bounds[2].ljust(14, "9")
        attribute = _DATE_FIELDS[field_name]
        return lambda doc: low <= getattr(doc, attribute) <= high
    if value.kind not in ("word", "phrase"):
        raise QueryError(f"malformed search_query: expected a value after {field_name}:, found {value}")
    if field_name == "cat":
        category = value.text.lower()
        return lambda doc: category in doc.categories
    if field_name == "id":
        arxiv_id = value.text.lower()
        return lambda doc: arxiv_id in doc.ids
    if field_name not in _TEXT_FIELDS:
        raise QueryError(f"malformed search_query: unknown field {field_name!r}")
    needle = _words(value.text)
    if not needle.strip():
        raise QueryError(f"malformed search_query: {value} has no letters or digits")
    return lambda doc: needle in doc.text[field_name]


@dataclass(frozen=True)
class _PageArgs:
    start: int
    size: int
    sort_by: str
    descending: bool


def _page_args(params: dict[str, str]) -> _PageArgs:
    numbers = {}
    for name, default in (("start", 0), ("max_results", 10)):
        raw = params.get(name) or str(default)
        if not re.fullmatch(r"-?\d+", raw.strip()):
            raise QueryError(f"{name} must be an integer")
        numbers[name] = int(raw)
        if numbers[name] < 0:
            raise QueryError(f"{name} must be non-negative")
    sort_by = params.get("sortBy") or "relevance"
    if sort_by not in ("relevance", "lastUpdatedDate", "submittedDate"):
        raise QueryError(f"sortBy must be relevance, lastUpdatedDate or submittedDate, not {sort_by!r}")
    sort_order = params.get("sortOrder") or "descending"
    if sort_order not in ("ascending", "descending"):
        raise QueryError(f"sortOrder must be ascending or descending, not {sort_order!r}")
    return _PageArgs(numbers["start"], min(numbers["max_results"], MAX_PAGE_SIZE), sort_by, sort_order == "descending")


# --- announcements: the listing (RSS) and OAI-PMH --------------------------------------------


def _announce_type(paper: dict, categories: set[str]) -> str:
    kind = "new" if paper["version"] == 1 else "replace"
    if paper["primary_category"] in categories:
        return kind
    return "cross" if kind == "new" else "replace-cross"


def rss_listing(key: str, day: date | None, papers: list[dict], now: datetime) -> bytes:
    """A day's listing for the categories of `key` (cs.CV+cs.GR) in arXiv's RSS format; no day: an empty feed."""
    categories = set(key.split("+"))
    rss = etree.Element("rss", version="2.0", nsmap={
        "arxiv": ARXIV_NS, "atom": ATOM_NS, "content": "http://purl.org/rss/1.0/modules/content/",
        "dc": "http://purl.org/dc/elements/1.1/"})
    channel = _add(rss, "channel")
    _add(channel, "title", f"{key} updates on arXiv.org")
    _add(channel, "link", f"http://rss.arxiv.org/rss/{key}")
    _add(channel, "description", f"{key} updates on the arXiv.org e-print archive.")
    _add(channel, f"{{{ATOM_NS}}}link", href=f"http://rss.arxiv.org/rss/{key}", rel="self", type="application/rss+xml")
    _add(channel, "docs", "http://www.rssboard.org/rss-specification")
    _add(channel, "language", "en-us")
    _add(channel, "lastBuildDate", format_datetime(now.astimezone(UTC)))
    _add(channel, "managingEditor", "rss-help@arxiv.org")
    if day is not None:
        published = format_datetime(datetime(day.year, day.month, day.day, tzinfo=ARXIV_TIME))
        _add(channel, "pubDate", published)
    skip = _add(channel, "skipDays")
    for name in ("Saturday", "Sunday"):
        _add(skip, "day", name)
    for paper in papers if day is not None else ():
        versioned = f"{paper['id']}v{paper['version']}"
        kind = _announce_type(paper, categories)
        item = _add(channel, "item")
        _add(item, "title", paper["title"])
        _add(item, "link", f"https://arxiv.org/abs/{paper['id']}")
        _add(item, "description", f"arXiv:{versioned} Announce Type: {kind} \nAbstract: {paper['abstract']}")
        _add(item, "guid", f"oai:arXiv.org:{versioned}", isPermaLink="false")
        for category in paper["categories"]:
            _add(item, "category", category)
        _add(item, "pubDate", published)
        _add(item, f"{{{ARXIV_NS}}}announce_type", kind)
        _add(item, "{http://purl.org/dc/elements/1.1/}rights", "http://creativecommons.org/licenses/by/4.0/")
        _add(item, "{http://purl.org/dc/elements/1.1/}creator", ", ".join(paper["authors"]))
    return _serialize(rss)


def oai_category(set_spec: str) -> str | None:
    """The category of an OAI-PMH set of arXiv's (cs:cs:CV → cs.CV, physics:hep-th → hep-th)."""
    parts = set_spec.split(":")
    if len(parts) == 2:
        return parts[1]
    if len(parts) == 3:
        return f"{parts[1]}.{parts[2]}"
    return None


def oai_document(params: dict[str, str], now: datetime, records: list[tuple[dict, list[dict]]] | None = None,
                 token: str | None = None, error: tuple[str, str] | None = None) -> bytes:
    """An OAI-PMH 2.0 answer: ListRecords of (newest version, all versions) pairs in arXivRaw, or an error."""
    root = etree.Element(f"{{{OAI_NS}}}OAI-PMH", nsmap={None: OAI_NS})
    _add(root, f"{{{OAI_NS}}}responseDate", _iso_utc(now))
    _add(root, f"{{{OAI_NS}}}request", "https://oaipmh.arxiv.org/oai", **params)
    if error:
        _add(root, f"{{{OAI_NS}}}error", error[1], code=error[0])
        return _serialize(root)
    listing = _add(root, f"{{{OAI_NS}}}ListRecords")
    for paper, versions in records or ():
        record = _add(listing, f"{{{OAI_NS}}}record")
        header = _add(record, f"{{{OAI_NS}}}header")
        _add(header, f"{{{OAI_NS}}}identifier", f"oai:arXiv.org:{paper['id']}")
        _add(header, f"{{{OAI_NS}}}datestamp", paper["announced"])
        raw = etree.SubElement(_add(record, f"{{{OAI_NS}}}metadata"), f"{{{RAW_NS}}}arXivRaw", nsmap={None: RAW_NS})
        _add(raw, f"{{{RAW_NS}}}id", paper["id"])
        dates = {version["version"]: version["updated"] for version in versions}
        for number in range(1, paper["version"] + 1):  # every version, as arXivRaw's history has them
            element = _add(raw, f"{{{RAW_NS}}}version", version=f"v{number}")
            _add(element, f"{{{RAW_NS}}}date", format_datetime(_datetime(dates.get(number, paper["published"]))))
        _add(raw, f"{{{RAW_NS}}}title", paper["title"])
        _add(raw, f"{{{RAW_NS}}}authors", ", ".join(paper["authors"]))
        _add(raw, f"{{{RAW_NS}}}categories", " ".join(paper["categories"]))
        _add(raw, f"{{{RAW_NS}}}abstract", paper["abstract"])
    if token is not None:
        _add(listing, f"{{{OAI_NS}}}resumptionToken", token)
    return _serialize(root)


# --- the server ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestRecord:
    """One request as the emulator saw it."""

    time: float  # time.monotonic() at arrival
    path: str
    params: dict[str, str]  # query parameters, one value each (the last of repeats)
    status: int | None  # HTTP status sent; None when no response was sent (hang, reset)
    fault: str | None  # the fault kind applied, if any
    entries: int  # entries in the document served (before any truncation)


@dataclass
class _Fault:
    kind: str
    times: int
    when: Callable[[dict[str, str]], bool] | None
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Recording:
    status: int
    body: bytes
    total: int
    entries: int


def _request_key(params: dict[str, str]) -> tuple[str, ...]:
    defaults = (("search_query", ""), ("id_list", ""), ("start", "0"), ("max_results", "10"),
                ("sortBy", "relevance"), ("sortOrder", "descending"))
    return tuple(params.get(name) or default for name, default in defaults)


def _params(query: str) -> dict[str, str]:
    return {name: values[-1] for name, values in parse_qs(query, keep_blank_values=True).items()}


def _load_recordings(directory: Path | None) -> dict[tuple[str, ...], _Recording]:
    recordings = {}
    for path in sorted(directory.glob("*.json")) if directory else ():
        record = json.loads(path.read_text(encoding="utf-8"))
        body = record["body"].encode("utf-8")
        feed = _parse_xml(body)
        entries = len(_papers(feed)) if record["status_code"] == 200 else 0
        total = int(feed.findtext(_OS + "totalResults"))
        key = _request_key(_params(urlsplit(record["url"]).query))
        recordings[key] = _Recording(record["status_code"], body, total, entries)
    return recordings


def unused_port() -> int:
    """A loopback TCP port nothing listens on (for connection-refused tests)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that went away is no error
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.emulator._handle(self)

    def log_message(self, format, *args) -> None:  # quiet: the emulator keeps its own log
        pass


class ArxivEmulator:
    """The arXiv API on 127.0.0.1, serving recorded responses and a list of papers.

    `with ArxivEmulator(papers=[...]) as emu:` starts it on an ephemeral port; `emu.url` is
    the endpoint. `recorded_dir=None` serves the papers only.
    """

    def __init__(self, papers: Iterable[dict] = (), recorded_dir: Path | None = RECORDED_DIR,
                 host: str = "127.0.0.1", port: int = 0):
        self.host, self.port = host, port
        self._docs: dict[str, list[_Doc]] = {}  # per id, its versions, oldest first
        self.clock: datetime | None = None  # None: the real time
        self.holidays: set[date] = set()  # listing days arXiv announces nothing (besides weekends)
        self.oai_page_size = OAI_PAGE_SIZE
        self._recordings = _load_recordings(recorded_dir)
        self._faults: list[_Fault] = []
        self._claims: dict[str, list[str]] = {}  # author identifier → ids of the papers the account claims
        self._log: list[RequestRecord] = []
        self._changed = threading.Condition()  # guards papers, faults and log
        self._server: _Server | None = None
        self._stopping = threading.Event()
        self.add(papers)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{API_PATH}"

    @property
    def rss_url(self) -> str:
        return f"http://{self.host}:{self.port}{RSS_PATH.rstrip('/')}"

    @property
    def oai_url(self) -> str:
        return f"http://{self.host}:{self.port}{OAI_PATH}"

    def environment(self) -> dict[str, str]:
        """The variables that point topic-report at this emulator: its API, listing and OAI-PMH."""
        return {"ARXIV_API_URL": self.url, "ARXIV_RSS_URL": self.rss_url, "ARXIV_OAI_URL": self.oai_url}

    def listing_day(self) -> date | None:
        """The day of the listing in force at the clock; None on a weekend or holiday (an empty feed)."""
        day = self.now().astimezone(ARXIV_TIME).date()
        return None if day.weekday() >= 5 or day in self.holidays else day

    def announced(self, day: date, categories: set[str]) -> list[dict]:
        """The versions announced on a listing day in any of these categories, in id order."""
        with self._changed:
            docs = self._docs
        wanted = day.isoformat()
        return [v.paper for _, versions in sorted(docs.items()) for v in versions
                if v.paper.get("announced") == wanted and v.categories & {c.lower() for c in categories}]

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of the request log, oldest first."""
        with self._changed:
            return list(self._log)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> bool:
        """Block until `count` requests have arrived in all (False if the timeout passes first)."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._log) >= count, timeout)

    def add(self, papers: Iterable[dict]) -> None:
        """Serve these papers too. One with a known id and version replaces that version; one with a
        known id and another version is that paper's other version. Relevance rank is first arrival."""
        prepared = [_Doc(paper) for paper in papers]
        with self._changed:
            docs = dict(self._docs)
            for doc in prepared:
                versions = [v for v in docs.get(doc.id, []) if v.paper["version"] != doc.paper["version"]]
                docs[doc.id] = sorted([*versions, doc], key=lambda v: v.paper["version"])
            self._docs = docs

    def now(self) -> datetime:
        return self.clock or datetime.now(UTC)

    def claim(self, author_id: str, paper_ids: Iterable[str]) -> None:
        """Serve these papers (ids without version) in the author feed of `author_id`."""
        with self._changed:
            self._claims[author_id] = list(paper_ids)

    def search(self, search_query: str) -> list[dict]:
        """The papers arXiv's index shows for a search_query at the emulator's clock, newest
        submission first (what all pages of its answer would hold, without the 30,000 limit)."""
        return self._search(search_query, "", _PageArgs(0, MAX_PAGE_SIZE, "submittedDate", True))

    def _visible(self) -> dict[str, _Doc]:
        """Per id, the newest version arXiv's index shows at the emulator's clock."""
        now = _stamp(_iso_utc(self.now()))
        visible = {}
        for arxiv_id, versions in self._docs.items():
            shown = [v for v in versions if v.visible_from <= now]
            if shown:
                visible[arxiv_id] = shown[-1]
        return visible

    def fault(self, kind: str, times: int = 1, when: Callable[[dict[str, str]], bool] | None = None, **options) -> None:
        """Spoil the next `times` requests for which `when(params)` holds (all, if no `when`); `params`
        are the request's query parameters and `_path`, its path (/api/query, /rss/cs.CV, /oai).

        Kinds: status (code=…, retry_after=seconds), hang (until stop()), empty_page (a feed
        without entries; total_zero=True also reports totalResults 0), truncated (the document
        cut in half), reset (connection closed without a response). Queued faults apply in order.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        unknown = set(options) - FAULT_KINDS[kind]
        if unknown or (kind == "status" and "code" not in options) or times < 1:
            raise TypeError(f"fault {kind!r} takes {sorted(FAULT_KINDS[kind]) or 'no options'} and times >= 1")
        with self._changed:
            self._faults.append(_Fault(kind, times, when, options))

    def start(self) -> ArxivEmulator:
        self._stopping = threading.Event()
        self._server = _Server((self.host, self.port), _Handler)
        self._server.emulator = self
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                         name=f"arxiv-emulator:{self.port}", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening and release hanging requests; later connections are refused."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    def __enter__(self) -> ArxivEmulator:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- request handling ---------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        arrived = time.monotonic()
        url = urlsplit(handler.path)
        params = _params(url.query)
        author = AUTHOR_PATH.match(url.path)
        if author and author["id"] in self._claims:
            visible = self._visible()
            papers = sorted((visible[i].paper for i in self._claims[author["id"]] if i in visible),
                            key=lambda paper: (paper["published"], paper["id"]), reverse=True)
            self._record(RequestRecord(arrived, url.path, params, 200, None, len(papers)))
            _send(handler, 200, author_feed(author["id"], papers, self.now()), _ATOM_TYPE)
            return
        if url.path != API_PATH and url.path != OAI_PATH and not url.path.startswith(RSS_PATH):
            self._record(RequestRecord(arrived, url.path, params, 404, None, 0))
            _send(handler, 404, b"not found\n", "text/plain")
            return
        fault = self._take_fault({**params, "_path": url.path})
        kind = fault.kind if fault else None
        if kind in ("hang", "reset"):
            self._record(RequestRecord(arrived, url.path, params, None, kind, 0))
            if kind == "hang":
                self._stopping.wait()
            else:  # linger 0: close() sends RST instead of FIN
                handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                handler.connection.close()
            return
        if kind == "status":
            code = fault.options["code"]
            self._record(RequestRecord(arrived, url.path, params, code, kind, 0))
            headers = {"Retry-After": str(fault.options["retry_after"])} if "retry_after" in fault.options else {}
            _send(handler, code, f"{code} {responses.get(code, 'Error')}\n".encode(), "text/plain", headers)
            return
        if url.path.startswith(RSS_PATH):
            (status, body, entries), content_type = self._listing(unquote(url.path[len(RSS_PATH):])), _RSS_TYPE
        elif url.path == OAI_PATH:
            (status, body, entries), content_type = self._oai(params), _XML_TYPE
        else:
            (status, body, entries), content_type = self._respond(params, fault), _ATOM_TYPE
        if kind == "truncated":
            body = body[: len(body) // 2]
        self._record(RequestRecord(arrived, url.path, params, status, kind, entries))
        _send(handler, status, body, content_type)

    def _listing(self, key: str) -> tuple[int, bytes, int]:
        if not key or not all(re.fullmatch(r"[a-z-]+(\.[A-Za-z-]+)?", c) for c in key.split("+")):
            return 404, b"not found\n", 0
        day = self.listing_day()
        papers = self.announced(day, set(key.split("+"))) if day else []
        return 200, rss_listing(key, day, papers, self.now()), len(papers)

    def _oai(self, params: dict[str, str]) -> tuple[int, bytes, int]:
        now = self.now()
        if "resumptionToken" in params:
            try:
                request = json.loads(base64.urlsafe_b64decode(params["resumptionToken"].encode()))
                start = request.pop("_start")
            except (ValueError, KeyError, TypeError):
                return 200, oai_document(params, now, error=("badResumptionToken", "The value of the resumptionToken argument is invalid or expired.")), 0
        else:
            request, start = dict(params), 0
        if request.get("verb") != "ListRecords":
            return 200, oai_document(params, now, error=("badVerb", "Value of the verb argument is not a legal OAI-PMH verb, the verb argument is missing, or the verb argument is repeated.")), 0
        if request.get("metadataPrefix") != "arXivRaw":
            return 200, oai_document(params, now, error=("cannotDisseminateFormat", "The metadata format identified by the value given for the metadataPrefix argument is not supported.")), 0
        try:
            low, high = (date.fromisoformat(request[name]) if request.get(name) else None for name in ("from", "until"))
        except ValueError:
            return 200, oai_document(params, now, error=("badArgument", "from and until must be YYYY-MM-DD")), 0
        category = oai_category(request["set"]) if request.get("set") else None
        if request.get("set") and category is None:
            return 200, oai_document(params, now, error=("badArgument", f"unknown set {request['set']}")), 0
        records = self._oai_records(category, low, high, now)
        if not records:
            return 200, oai_document(params, now, error=("noRecordsMatch", "The combination of the values of the from, until, set and metadataPrefix arguments results in an empty list.")), 0
        page = records[start: start + self.oai_page_size]
        rest = start + len(page) < len(records)
        token = base64.urlsafe_b64encode(json.dumps({**request, "_start": start + len(page)}).encode()).decode() if rest else ("" if start else None)
        return 200, oai_document(params, now, page, token), len(page)

    def _oai_records(self, category: str | None, low: date | None, high: date | None,
                     now: datetime) -> list[tuple[dict, list[dict]]]:
        """Per paper (cross-lists included), its newest version announced by `now`, if announced within the range."""
        today = now.astimezone(ARXIV_TIME).date().isoformat()
        with self._changed:
            docs = self._docs
        records = []
        for _, versions in sorted(docs.items()):
            shown = [v.paper for v in versions if v.paper.get("announced") and v.paper["announced"] <= today]
            if not shown or (category and category.lower() not in versions[-1].categories):
                continue
            newest = shown[-1]
            if (low and newest["announced"] < low.isoformat()) or (high and newest["announced"] > high.isoformat()):
                continue
            records.append((newest, shown))
        return records

    def _take_fault(self, params: dict[str, str]) -> _Fault | None:
        with self._changed:
            for fault in self._faults:
                if fault.when is None or fault.when(params):
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _record(self, record: RequestRecord) -> None:
        with self._changed:
            self._log.append(record)
            self._changed.notify_all()

    def _respond(self, params: dict[str, str], fault: _Fault | None) -> tuple[int, bytes, int]:
        """(status, body, entries): the recorded answer, else a page of the papers or an error feed."""
        empty = fault is not None and fault.kind == "empty_page"
        recording = self._recordings.get(_request_key(params))
        if recording and not empty:
            return recording.status, recording.body, recording.entries
        search_query, id_list = params.get("search_query", ""), params.get("id_list", "")
        try:
            page_args = _page_args(params)
            if recording:
                total, page = recording.total, []
            else:
                matches = self._search(search_query, id_list, page_args)
                total = len(matches)
                page = matches[page_args.start: min(page_args.start + page_args.size, MAX_RESULTS_PER_QUERY)]
        except QueryError as error:
            return 400, error_feed(str(error)), 0
        if empty:
            page, total = [], 0 if fault.options.get("total_zero") else total
        body = atom_feed(page, total, page_args.start, page_args.size, search_query, id_list, self.now())
        return 200, body, len(page)

    def _search(self, search_query: str, id_list: str, page_args: _PageArgs) -> list[dict]:
        docs = self._visible()
        if id_list.strip():
            wanted = [arxiv_id.strip() for arxiv_id in id_list.split(",")]
            for arxiv_id in wanted:
                if not _ARXIV_ID.match(arxiv_id):
                    raise QueryError(f"incorrect id format for {arxiv_id}")
            bases = dict.fromkeys(re.sub(r"v\d+$", "", arxiv_id) for arxiv_id in wanted)
            candidates = [docs[base] for base in bases if base in docs]
        else:
            candidates = list(docs.values()) if search_query.strip() else []
        if search_query.strip():
            predicate = parse_query(search_query)
            candidates = [doc for doc in candidates if predicate(doc)]
        if page_args.sort_by == "relevance":
            ordered = candidates if page_args.descending else candidates[::-1]
        else:
            attribute = "published" if page_args.sort_by == "submittedDate" else "updated"
            ordered = sorted(candidates, key=lambda doc: (getattr(doc, attribute), doc.id), reverse=page_args.descending)
        return [doc.paper for doc in ordered]


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str,
          headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a loopback arXiv API (/api/query) until Ctrl-C.")
    parser.add_argument("--jsonl", action="extend", nargs="+", type=Path, default=[], metavar="FILE",
                        help="papers in the corpus schema, one JSON object a line")
    parser.add_argument("--atom", action="extend", nargs="+", type=Path, default=[], metavar="FILE",
                        help="papers in an Atom feed of the API's format")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port (default: %(default)s)")
    parser.add_argument("--no-recorded", action="store_true", help=f"do not serve the recordings in {RECORDED_DIR}")
    args = parser.parse_args(argv)
    papers = [paper for path in args.jsonl for paper in load_jsonl(path)]
    papers += [paper for path in args.atom for paper in load_atom(path)]
    with ArxivEmulator(papers, None if args.no_recorded else RECORDED_DIR, args.host, args.port) as emulator:
        print(emulator.url, flush=True)
        print(f"serving {len(papers)} papers; Ctrl-C stops", file=sys.stderr, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
