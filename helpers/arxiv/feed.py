"""An answer of the arXiv API read, once, as the Atom feed it should be: its totalResults and its
papers, or the reason it cannot be used.

The format is the API's (arXiv API User's Manual, "Details of Atom Results Returned"). It is
read with lxml's public API: the `arxiv` package's own parser is private (`arxiv._feed`) and
skips the entries it cannot read, where a paper must not be dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from topic_report import TopicReportError
from topic_report.arxiv.transport import shown
from topic_report.store import Paper

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
ENTRY_ID = re.compile(r"arxiv\.org/abs/(?P<id>.+?)v(?P<version>\d+)$")
# SQLite's INTEGER is 64-bit: a version of more digits cannot be stored (nor is it real).
MAX_VERSION_DIGITS = 18
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


class TransientPageError(Exception):
    """A page that must be asked for again: truncated, malformed, an HTML page, or unexpectedly
    empty or repeated."""


class FeedError(TopicReportError):
    """arXiv sent something that cannot be used as it is, and asking again would not help."""


@dataclass(frozen=True)
class Page:
    """One answer: what arXiv reported matching (totalResults) and the papers it sent."""

    total: int
    papers: list[Paper]


def fold(text: str | None) -> str:
    """Whitespace and line breaks folded to single spaces, as arXiv listings show text."""
    return " ".join((text or "").split())


def parse_page(body: bytes, content_type: str = "") -> Page:
    """The page, once the document is known to be whole: an Atom feed (not an HTML page),
    well-formed, with a numeric totalResults, every entry with an id, dates and a version."""
    if looks_like_html(body, content_type):
        page = etree.HTML(body) if body.strip() else None
        title = page.findtext(".//title") if page is not None else None
        raise TransientPageError("arXiv sent an HTML page" + (f" ({shown(title)})" if fold(title) else "")
                                 + " instead of an Atom feed")
    if not body.rstrip().endswith(b"</feed>"):
        raise TransientPageError("arXiv sent a truncated Atom document")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise TransientPageError(f"arXiv sent a malformed Atom document ({shown(str(exc))})") from None
    if root.tag != ATOM + "feed":
        raise FeedError(f"arXiv sent a {shown(etree.QName(root).localname)} document instead of an Atom feed")
    total = root.findtext(OPENSEARCH + "totalResults")
    if total is None:
        raise FeedError("arXiv sent a page without totalResults")
    if not total.strip().isdigit():
        raise FeedError(f"arXiv sent totalResults {shown(total)}, not a number")
    start = fold(root.findtext(OPENSEARCH + "startIndex")) or "?"
    papers = [_paper(entry, number, start) for number, entry in enumerate(root.iterfind(ATOM + "entry"), 1)]
    return Page(int(total), papers)


def parse_feed(body: bytes) -> list[Paper]:
    """Papers of one Atom document (the API's format), e.g. the shipped sample data."""
    return parse_page(body, "application/atom+xml").papers


def error_message(body: bytes) -> str:
    """The message of an arXiv error feed (`<entry><title>Error</title><summary>…`), if any."""
    if not body:
        return ""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        return ""
    return shown(root.findtext(f"{ATOM}entry/{ATOM}summary"), 200, quoted=False)


def _paper(entry, number: int, start: str) -> Paper:
    entry_id = fold(entry.findtext(ATOM + "id"))
    if not entry_id:
        raise FeedError(f"arXiv sent an entry without id (entry {number} of the page at {start})")
    published, updated = (_date(entry, entry_id, name) for name in ("published", "updated"))
    match = ENTRY_ID.search(entry_id)
    if not match:
        raise FeedError(f"arXiv sent an entry id of unknown form: {shown(entry_id)}")
    if len(match["version"]) > MAX_VERSION_DIGITS:
        raise FeedError(f"arXiv sent an impossible version number for {shown(match['id'])}: "
                        f"v{shown(match['version'])}")
    authors = list(entry.iterfind(ATOM + "author"))
    categories = [c.get("term") for c in entry.iterfind(ATOM + "category") if c.get("term") is not None]
    primary = entry.find(ARXIV + "primary_category")
    return Paper(
        id=match["id"],
        version=int(match["version"]),
        title=fold(entry.findtext(ATOM + "title")),
        abstract=fold(entry.findtext(ATOM + "summary")),
        authors=[fold(a.findtext(ATOM + "name")) for a in authors],
        affiliations=[[af.text for af in a.iterfind(ARXIV + "affiliation") if af.text is not None] for a in authors],
        published=published,
        updated=updated,
        primary_category=(primary.get("term") if primary is not None else "") or (categories[0] if categories else ""),
        categories=categories,
        comment=_text(entry, ARXIV + "comment"),
        journal_ref=_text(entry, ARXIV + "journal_ref"),
        doi=_text(entry, ARXIV + "doi"),
        links=[{"href": link.get("href"), "rel": link.get("rel") or "", "title": link.get("title"),
                "type": link.get("type")} for link in entry.iterfind(ATOM + "link") if link.get("href") is not None],
    )


def _text(entry, path: str) -> str | None:
    """An optional element's text; None where it is absent or empty."""
    found = entry.find(path)
    return found.text if found is not None else None


def _date(entry, entry_id: str, name: str) -> datetime:
    """An Atom (RFC 3339) date as a UTC datetime; `Z` spelled out for Python 3.10's fromisoformat."""
    stamp = entry.findtext(ATOM + name)
    if stamp is None:
        raise FeedError(f"arXiv sent {shown(entry_id)} without a {name} date")
    try:
        moment = datetime.fromisoformat(stamp.strip().replace("Z", "+00:00"))
    except ValueError:
        raise FeedError(f"arXiv sent {shown(entry_id)} with the {name} date {shown(stamp)}, "
                        "which is not a date") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def looks_like_html(body: bytes, content_type: str) -> bool:
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return True
    return "html" in content_type.lower() and b"<feed" not in head
