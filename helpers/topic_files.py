"""What the site holds per topic, and its names: the page and every file written beside it, each
`<slug>.<suffix>`, and the links to them. Light on purpose: a build where nothing changed reads
the names without loading what makes the files (helpers/exports.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from topic_report.arxiv import links
from topic_report.store import ARXIV_ID


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
RIS = TopicFile("ris", "RIS", "application/x-research-info-systems", download=True)
CSV = TopicFile("csv", "CSV", "text/csv", download=True)
JSON = TopicFile("json", "JSON", "application/json", download=True)
# The abstracts, authors and reasons of the page's table, which it fetches when a reader needs them:
# the rendering moves them out of the page, from the JSON block of this id (helpers/site.py).
DETAILS = TopicFile("details.json", "table details", "application/json", download=False)
DETAILS_BLOCK = "papers-details"
# Every file the build writes per topic, beside its page. Stale-page removal goes by this list.
TOPIC_FILES = (PAGE, DIGEST, FEED, BIBTEX, RIS, CSV, JSON, DETAILS)
EXPORTS = (FEED, BIBTEX, RIS, CSV, JSON)
# Beside the index: the feed of every topic, and the list of every topic's feed (a topic slug
# cannot be "all": helpers/topics.py's RESERVED_SLUGS).
ALL_FEED = "all.atom"
FEED_LIST = "feeds.opml"
SITE_FILES = (ALL_FEED, FEED_LIST)
INDEX = "index.html"
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
