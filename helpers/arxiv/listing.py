"""What arXiv announced: its daily listing (the RSS feeds) and, for days a run missed, OAI-PMH.

The listing, `<ARXIV_RSS_URL>/<cat>+<cat>`, is arXiv's RSS 2.0 feed of one announcement for a set
of categories ("RSS feed specifications", arXiv/arxiv-docs source/help/rss_specifications.md):
the channel's `pubDate` is the announcement date; each item's `guid` is
`oai:arXiv.org:<id>v<version>`, its `arxiv:announce_type` new, cross, replace or replace-cross,
its `category` elements the paper's categories, its `description` "arXiv:<id>v<n> Announce Type:
… Abstract: …". The feed is empty on Saturday and Sunday and on arXiv's holidays.

The listing holds only the current day. Days before it come from arXiv's OAI-PMH interface
(arXiv/arxiv-docs source/help/oa/index.md: "the copy may be maintained by making incremental
harvesting requests with the `from` date set to the date of last harvest"): `ListRecords` in the
`arXivRaw` format (it carries the version history), one set per category (`group:archive:CLASS`,
e.g. `cs:cs:CV`), `from`/`until` the missed days, followed through `resumptionToken`s (OAI-PMH
2.0, §3.5). A record's `datestamp` is UTC (OAI-PMH §3.3.1); arXiv announces at 20:00-22:00 New
York time, after midnight UTC, so a record's datestamp is the date of its listing. A datestamp is
a record's last change: a paper changed again since is in a later day's listing.

Both are read with lxml, never resolving entities or fetching anything the document names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlencode

from lxml import etree

from topic_report.arxiv.feed import FeedError, TransientPageError, fold, looks_like_html
from topic_report.arxiv.paging import ArxivSource
from topic_report.arxiv.transport import Answer, shown
from topic_report.store import ARXIV_ID

ARXIV_NS = "{http://arxiv.org/schemas/atom}"
OAI_NS = "{http://www.openarchives.org/OAI/2.0/}"
RAW_NS = "{http://arxiv.org/OAI/arXivRaw/}"
GUID = re.compile(r"^oai:arXiv\.org:(?P<id>.+?)v(?P<version>\d+)$")
OAI_IDENTIFIER = re.compile(r"^oai:arXiv\.org:(?P<id>.+)$")
ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")
# arXiv's OAI-PMH sets are group:archive:CLASS; these archives are groups of their own, the
# others (astro-ph, cond-mat, hep-th, quant-ph, …) are in the group physics.
OWN_GROUPS = {"cs", "econ", "eess", "math", "q-bio", "q-fin", "stat"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


@dataclass(frozen=True)
class Announced:
    """One paper version in arXiv's announcement of a day."""

    id: str
    version: int
    day: date
    kind: str                     # new, cross, replace, replace-cross
    categories: tuple[str, ...]
    title: str
    abstract: str


def oai_set(category: str) -> str:
    """The OAI-PMH set of one category: cs.CV → cs:cs:CV, hep-th → physics:hep-th,
    astro-ph.CO → physics:astro-ph:CO."""
    archive, _, subject = category.partition(".")
    group = archive if archive in OWN_GROUPS else "physics"
    return ":".join([group, archive, subject] if subject else [group, archive])


class Listings:
    """Reads arXiv's announcements through an ArxivSource (its transport, delay and retries)."""

    def __init__(self, source: ArxivSource):
        self.source = source

    def today(self, key: str) -> tuple[date | None, list[Announced]]:
        """The current listing of a category set (`cs.CV+cs.GR`, topic_report.audit.listing_key): its
        date (None for a feed without one) and its items."""
        url = f"{self.source.settings.rss_url}/{quote(key, safe='+.-')}"
        return self.source.get(url, parse_listing)

    def harvest(self, spans: dict[str, tuple[date, date]]) -> dict[str, list[Announced]]:
        """Per category, every paper version announced in it from the first to the last day of its
        span, from OAI-PMH: one harvest per category, each followed through its resumption tokens.
        Listings that share a category share its harvest (see `announced_in`)."""
        harvested = {}
        for category, (first, last) in sorted(spans.items()):
            params = {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "set": oai_set(category),
                      "from": first.isoformat(), "until": last.isoformat()}
            harvested[category] = []
            while params:
                url = f"{self.source.settings.oai_url}?{urlencode(params)}"
                records, token = self.source.get(url, parse_records)
                harvested[category] += records
                params = {"verb": "ListRecords", "resumptionToken": token} if token else {}
        return harvested


def announced_in(harvested: dict[str, list[Announced]], categories: list[str] | tuple[str, ...],
                 days: list[date]) -> list[Announced]:
    """What the listing of these categories announced on these days, from the harvests of its
    categories: each paper version once, its announce type as that listing gives it (a paper whose
    primary category is not among them is a cross-list)."""
    found: dict[tuple[str, int], Announced] = {}
    wanted = set(days)
    for category in sorted(set(categories)):
        for item in harvested.get(category, []):
            if item.day in wanted and (item.id, item.version) not in found:
                found[item.id, item.version] = replace(item, kind=announce_type(item.version, item.categories,
                                                                                set(categories)))
    return list(found.values())


def announce_type(version: int, categories: tuple[str, ...], listing: set[str]) -> str:
    """new, cross, replace or replace-cross: a paper version of these categories as the listing
    of the `listing` categories announces it."""
    cross = not categories or categories[0] not in listing  # the first category is the primary one
    return ("cross" if cross else "new") if version <= 1 else ("replace-cross" if cross else "replace")


def _document(answer: Answer, what: str) -> etree._Element:
    if looks_like_html(answer.body, answer.headers.get("Content-Type", "")):
        raise TransientPageError(f"arXiv sent an HTML page instead of its {what}")
    try:
        return etree.fromstring(answer.body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise TransientPageError(f"arXiv sent a truncated or malformed {what} ({shown(str(exc))})") from None


def parse_listing(answer: Answer) -> tuple[date | None, list[Announced]]:
    """The listing's date and items (see the module's docstring for the format)."""
    root = _document(answer, "listing")
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise FeedError(f"arXiv sent a {shown(etree.QName(root).localname)} document instead of its RSS listing")
    items = [_item(item) for item in channel.iterfind("item")]
    published = channel.findtext("pubDate")
    return (_day(published) if items or fold(published) else None), items


def _day(text: str | None) -> date:
    try:
        return parsedate_to_datetime(fold(text)).date()
    except (TypeError, ValueError):
        raise FeedError(f"arXiv's listing has no valid pubDate ({shown(text)})") from None


def _item(item: etree._Element) -> Announced:
    guid = GUID.match(fold(item.findtext("guid")))
    kind = fold(item.findtext(ARXIV_NS + "announce_type"))
    if not guid or not ARXIV_ID.fullmatch(guid["id"]) or kind not in ANNOUNCE_TYPES:
        raise FeedError(f"arXiv's listing has an item without an arXiv id or announce type "
                        f"({shown(item.findtext('guid'))}, {shown(kind)})")
    _, _, abstract = fold(item.findtext("description")).partition("Abstract: ")
    return Announced(guid["id"], int(guid["version"]), _day(item.findtext("pubDate")), kind,
                     tuple(fold(c.text) for c in item.iterfind("category")), fold(item.findtext("title")),
                     abstract)


def parse_records(answer: Answer) -> tuple[list[Announced], str | None]:
    """One ListRecords answer: its records (announce type as their primary category's listing
    gives it) and the resumption token of the rest (None at the end)."""
    root = _document(answer, "OAI-PMH answer")
    if root.tag != OAI_NS + "OAI-PMH":
        raise FeedError(f"arXiv sent a {shown(etree.QName(root).localname)} document instead of an OAI-PMH answer")
    error = root.find(OAI_NS + "error")
    if error is not None:
        if error.get("code") == "noRecordsMatch":  # OAI-PMH §3.6: an empty list, not a failure
            return [], None
        raise FeedError(f"arXiv's OAI-PMH interface answered {shown(error.get('code'))}: {shown(error.text)}")
    listing = root.find(OAI_NS + "ListRecords")
    if listing is None:
        raise FeedError("arXiv's OAI-PMH answer holds no ListRecords")
    records = [_record(record) for record in listing.iterfind(OAI_NS + "record")
               if record.find(OAI_NS + "header").get("status") != "deleted"]
    token = fold(listing.findtext(OAI_NS + "resumptionToken")) or None
    return records, token


def _record(record: etree._Element) -> Announced:
    header = record.find(OAI_NS + "header")
    identifier = OAI_IDENTIFIER.match(fold(header.findtext(OAI_NS + "identifier")))
    raw = record.find(f"{OAI_NS}metadata/{RAW_NS}arXivRaw")
    if identifier is None or not ARXIV_ID.fullmatch(identifier["id"]) or raw is None:
        raise FeedError(f"arXiv's OAI-PMH record {shown(header.findtext(OAI_NS + 'identifier'))} is not an arXivRaw record")
    try:
        day = date.fromisoformat(fold(header.findtext(OAI_NS + "datestamp"))[:10])
    except ValueError:
        raise FeedError(f"arXiv's OAI-PMH record {identifier['id']} has no valid datestamp") from None
    version = max(len(raw.findall(RAW_NS + "version")), 1)
    listed = tuple(fold(raw.findtext(RAW_NS + "categories")).split())
    return Announced(identifier["id"], version, day, announce_type(version, listed, set(listed[:1])), listed,
                     fold(raw.findtext(RAW_NS + "title")), fold(raw.findtext(RAW_NS + "abstract")))
