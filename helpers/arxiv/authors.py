"""Papers fetched by who wrote them or by id, beside a topic's query: the papers of followed authors
pinned to one person, and a topic's example papers (`like:`).

arXiv's `au:` search matches names, so two people of one name are one author to it. An author
pinned by an arXiv author identifier or an ORCID iD is looked up in arXiv's author feed instead
(`/a/<id>.atom2` on the API's host: the papers that person's arXiv account claims), and those
papers are then fetched whole, by id, through the API. Both go through `ArxivSource`'s guarded
session: the 3-second rule, the deadline and size cap, the redirect rule and the retries.
"""

from __future__ import annotations

from collections.abc import Container
from urllib.parse import urlsplit

from lxml import etree

from topic_report.arxiv.feed import ENTRY_ID, FeedError, TransientPageError
from topic_report.arxiv.paging import ArxivSource, Fetched
from topic_report.arxiv.query import Window
from topic_report.arxiv.transport import Answer
from topic_report.store import Paper, RequestRecord
from topic_report.topics import Topic

_ATOM = "{http://www.w3.org/2005/Atom}"


def author_feed_url(api_url: str, author_id: str) -> str:
    """arXiv's feed of an author's papers, on the API's host (`https://export.arxiv.org/a/<id>.atom2`)."""
    parts = urlsplit(api_url)
    return f"{parts.scheme}://{parts.netloc}/a/{author_id}.atom2"


def claimed_ids(source: ArxivSource, author_id: str, fetched: Fetched) -> list[str]:
    """The arXiv ids (without version) of the papers an author's arXiv account claims, newest first;
    the request is logged in `fetched`."""
    url = author_feed_url(source.settings.api_url, author_id)

    def entry_ids(answer: Answer) -> list[str]:
        try:
            root = etree.fromstring(answer.body, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            raise TransientPageError(f"arXiv sent a malformed author feed for {author_id!r}") from None
        ids = []
        for entry_id in root.iterfind(f"{_ATOM}entry/{_ATOM}id"):
            match = ENTRY_ID.search((entry_id.text or "").strip())
            if not match:
                raise FeedError(f"arXiv's author feed for {author_id!r} holds an entry id of unknown form")
            ids.append(match["id"])
        return ids

    ids = source.get(url, entry_ids, missing=f"arXiv has no author {author_id!r} (no feed at {url})")
    fetched.requests.append(RequestRecord(url, "", 0, len(ids), len(ids)))
    return ids


def pinned_papers(source: ArxivSource, topic: Topic, window: Window, fetched: Fetched,
                  have: Container[str]) -> tuple[list[Paper], dict[str, list[str]]]:
    """The papers of the topic's pinned authors submitted in the window, not excluded, that are
    not among the ids the fetch brought (`have`), and the ids each pin's feed claims (so the
    ranking follows the person, not the name); every request logged in `fetched`."""
    claims = {author.pin: claimed_ids(source, author.pin, fetched) for author in topic.authors if author.pin}
    wanted = [paper_id for ids in claims.values() for paper_id in ids if paper_id not in have]
    found = source.by_id(list(dict.fromkeys(wanted))) if wanted else Fetched()
    fetched.requests += found.requests
    return [paper for paper in found.papers if window.since <= paper.published <= window.until
            and not topic.excluded(paper.title, paper.abstract)], claims
