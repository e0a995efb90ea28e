"""Topic → arXiv query → papers, through the real `arxiv` client over HTTP.

What this adds to `arxiv.Client`: request timeouts (it sets none), retries with exponential
backoff that honour Retry-After on 429/5xx, connection errors, truncated documents and arXiv's
spurious empty pages (the first page too, when the store says the window holds papers), the
API's 30,000-results-per-query cap (a larger window is split into date slices), and a count of
the HTTP requests made. The client's own delay keeps requests at least `delay_seconds` apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import arxiv
import requests
import tenacity
from lxml import etree
from tqdm import tqdm

from helpers import TopicReportError
from helpers.settings import API_MAX_RESULTS_PER_QUERY, Settings
from helpers.store import Paper
from helpers.topics import Topic, quote_phrase

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
# Connecting takes milliseconds when arXiv is there; a network that drops packets should not
# cost the whole request timeout per attempt before the build falls back to stored papers.
CONNECT_TIMEOUT_SECONDS = 10
# Longest Retry-After we wait out; beyond it, failing clearly beats hanging for an hour.
MAX_RETRY_AFTER_SECONDS = 300
ENTRY_ID = re.compile(r"arxiv\.org/abs/(?P<id>.+?)v(?P<version>\d+)$")


class TransientPageError(Exception):
    """A page that must be asked for again: truncated, malformed or unexpectedly empty."""


class _RetryAfterTooLong(Exception):
    """arXiv asked for a longer pause than we are willing to wait."""


class ArxivUnreachable(TopicReportError):
    """No connection to arXiv can be made (the name does not resolve, or connecting fails)."""


@dataclass(frozen=True)
class Window:
    """Submission-date window of a query, both ends inclusive, minute precision."""

    since: datetime
    until: datetime

    def halves(self) -> tuple["Window", "Window"]:
        middle = self.since + (self.until - self.since) / 2
        middle = middle.replace(second=0, microsecond=0)
        return Window(middle + timedelta(minutes=1), self.until), Window(self.since, middle)

    def clause(self) -> str:
        return f"submittedDate:[{self.since:%Y%m%d%H%M} TO {self.until:%Y%m%d%H%M}]"


def _phrases(phrases: list[str]) -> str:
    return "(" + " OR ".join(f"ti:{quote_phrase(p)} OR abs:{quote_phrase(p)}" for p in phrases) + ")"


def build_query(topic: Topic, window: Window | None = None) -> str:
    """`(ti:"t" OR abs:"t" …) AND (cat:a OR cat:b …) ANDNOT (ti:"x" OR abs:"x" …) AND submittedDate:[… TO …]`,
    or `(<the topic's own query>) ANDNOT (…) AND submittedDate:[…]`."""
    if topic.query is not None:
        query = f"({topic.query})"
    else:
        query = _phrases(topic.terms)
        if topic.categories:
            query += " AND (" + " OR ".join(f"cat:{c}" for c in topic.categories) + ")"
    if topic.exclude:
        query += " ANDNOT " + _phrases(topic.exclude)
    if window:
        query += " AND " + window.clause()
    return query


def paper_from_result(result: arxiv.Result) -> Paper:
    match = ENTRY_ID.search(result.entry_id)
    if not match:
        raise TransientPageError(f"unexpected entry id {result.entry_id!r}")
    return Paper(
        id=match["id"],
        version=int(match["version"]),
        title=fold(result.title),
        abstract=fold(result.summary),
        authors=[fold(a.name) for a in result.authors],
        affiliations=[list(a.affiliation) for a in result.authors],
        published=result.published,
        updated=result.updated,
        primary_category=result.primary_category or (result.categories[0] if result.categories else ""),
        categories=list(result.categories),
        comment=result.comment,
        journal_ref=result.journal_ref,
        doi=result.doi,
        links=[{"href": l.href, "rel": l.rel, "title": l.title, "type": l.content_type} for l in result.links],
    )


def fold(text: str | None) -> str:
    """Whitespace and line breaks folded to single spaces, as arXiv listings show text."""
    return " ".join((text or "").split())


def parse_feed(content: bytes) -> list[Paper]:
    """Papers of one Atom document (the API's format), e.g. the shipped sample data."""
    return [paper_from_result(r) for r in arxiv._feed.parse(content).results]


class _CountingSession(requests.Session):
    """A session with a default timeout that counts requests and keeps the last response."""

    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout
        self.requests_made = 0
        self.last_response: requests.Response | None = None

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", (min(CONNECT_TIMEOUT_SECONDS, self.timeout), self.timeout))
        self.requests_made += 1
        self.last_response = None
        self.last_response = super().request(method, url, **kwargs)
        return self.last_response


class ArxivSource:
    """Fetches topics from the arXiv API (or any server speaking it, e.g. the test emulator)."""

    def __init__(self, settings: Settings, progress: bool = True):
        self.settings = settings
        self.progress = progress
        self.client = arxiv.Client(page_size=settings.page_size, delay_seconds=settings.delay_seconds, num_retries=0)
        self.client.query_url_format = settings.api_url + "?{}"
        self.session = _CountingSession(settings.timeout_seconds)
        self.client._session = self.session

    @property
    def requests_made(self) -> int:
        return self.session.requests_made

    def fetch(self, topic: Topic, window: Window, expect_results: bool = False) -> list[Paper]:
        """Every paper of the topic submitted in the window, newest first, up to the topic's cap.

        `expect_results`: the store already holds papers of this window, so an empty first
        page is arXiv's glitch, not an answer, and is asked for again.
        """
        papers: list[Paper] = []
        with tqdm(desc=topic.slug, unit="paper", disable=None if self.progress else True, leave=False) as bar:
            self._fetch_window(topic, window, expect_results, papers, bar)
        return papers

    def _fetch_window(self, topic, window, expect_results, papers, bar) -> None:
        search = arxiv.Search(
            query=build_query(topic, window), max_results=None,
            sort_by=arxiv.SortCriterion.SubmittedDate, sort_order=arxiv.SortOrder.Descending,
        )
        wanted = topic.max_results - len(papers)
        first = self._page(search, 0, expect_results)
        total = first.header.total_results
        if min(total, wanted) > API_MAX_RESULTS_PER_QUERY and window.until - window.since > timedelta(minutes=1):
            newer, older = window.halves()
            self._fetch_window(topic, newer, False, papers, bar)
            if len(papers) < topic.max_results:
                self._fetch_window(topic, older, False, papers, bar)
            return
        reachable = min(total, wanted, API_MAX_RESULTS_PER_QUERY)
        bar.total = (bar.total or 0) + reachable
        feed, start = first, 0
        while True:
            batch = [paper_from_result(r) for r in feed.results][: reachable - start]
            papers.extend(batch)
            bar.update(len(batch))
            start += len(feed.results)
            if start >= reachable or not feed.results:
                return
            feed = self._page(search, start, expect_results=True)

    def _page(self, search: arxiv.Search, start: int, expect_results: bool):
        url = self.client._format_url(search, start, self.settings.page_size)

        def attempt():
            try:
                # first_page=True: the client must not judge empty pages; we do, the first included.
                feed = self.client._parse_feed(url, first_page=True)
            finally:
                # The client times its delay from the last answer only; a request that failed
                # (refused, reset, timed out) counts as well, or the next one could follow at once.
                self.client._last_request_dt = datetime.now()
            body = self.session.last_response.content if self.session.last_response is not None else b""
            if not body.rstrip().endswith(b"</feed>"):
                raise TransientPageError("arXiv sent a truncated Atom document")
            if not feed.results and (expect_results or start < feed.header.total_results):
                raise TransientPageError("arXiv sent an empty page where results were expected")
            return feed

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(_is_transient),
            stop=tenacity.stop_after_attempt(self.settings.retries + 1),
            wait=self._wait,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except Exception as exc:  # one line for the user, whatever went wrong below
            raise self._explain(exc, retrying.statistics.get("attempt_number", 1)) from exc

    def _wait(self, state: tenacity.RetryCallState) -> float:
        backoff = tenacity.wait_exponential(multiplier=max(self.settings.delay_seconds, 0.1), max=120)(state)
        return max(backoff, _retry_after(self.session.last_response))

    def _explain(self, exc: Exception, attempts: int) -> TopicReportError:
        tries = f"after {attempts} attempt{'s' if attempts > 1 else ''}"
        if isinstance(exc, arxiv.HTTPError):
            reason = _error_summary(self.session.last_response)
            return TopicReportError(f"arXiv answered HTTP {exc.status}{': ' + reason if reason else ''} ({tries})")
        if _name_not_resolved(exc):
            return ArxivUnreachable(f"arXiv is unreachable ({_host(self.settings.api_url)} does not resolve)")
        if _no_connection(exc):
            return ArxivUnreachable(f"arXiv is unreachable (cannot connect to {self.settings.api_url}, {tries})")
        if isinstance(exc, requests.Timeout):
            return TopicReportError(f"arXiv did not answer within {self.settings.timeout_seconds:g} s ({tries})")
        if isinstance(exc, requests.ConnectionError):
            return TopicReportError(f"the connection to arXiv broke off ({tries})")
        if isinstance(exc, TransientPageError):
            return TopicReportError(f"{exc} ({tries})")
        if isinstance(exc, _RetryAfterTooLong):
            return TopicReportError(str(exc))
        return TopicReportError(f"unexpected failure talking to arXiv: {type(exc).__name__}: {exc}")


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, arxiv.HTTPError):
        return exc.status in RETRYABLE_STATUS
    if isinstance(exc, requests.ConnectionError):
        return not _name_not_resolved(exc)
    return isinstance(exc, (requests.Timeout, TransientPageError))


def _retry_after(response: requests.Response | None) -> float:
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        return 0.0
    if seconds > MAX_RETRY_AFTER_SECONDS:
        raise _RetryAfterTooLong(f"arXiv asked to wait {seconds:g} s before retrying; try again later")
    return seconds


def _error_summary(response: requests.Response | None) -> str:
    """The message of an arXiv error feed (`<entry><title>Error</title><summary>…`), if any."""
    if response is None or not response.content:
        return ""
    try:
        root = etree.fromstring(response.content, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return ""
    summary = root.findtext("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}summary")
    return fold(summary)[:200]


def _no_connection(exc: BaseException) -> bool:
    """No connection could be made at all (refused, or no answer to connecting): arXiv is out of reach."""
    return isinstance(exc, requests.ConnectTimeout) or (
        isinstance(exc, requests.ConnectionError) and "NewConnectionError" in str(exc))


def _name_not_resolved(exc: BaseException) -> bool:
    text = str(exc)
    return "NameResolutionError" in text or "Name or service not known" in text or "nodename nor servname" in text


def _host(url: str) -> str:
    return requests.utils.urlparse(url).hostname or url


def default_window(topic: Topic, newest_stored: datetime | None, now: datetime | None = None) -> Window:
    """Incremental by default: from the newest stored paper (inclusive, so a rerun with nothing
    new still sees that paper and an empty answer is recognisably wrong) up to now."""
    now = (now or datetime.now(timezone.utc)).replace(second=0, microsecond=0)
    if newest_stored is not None:
        since = newest_stored.astimezone(timezone.utc).replace(second=0, microsecond=0)
    elif topic.since is not None:
        since = datetime.combine(topic.since, datetime.min.time(), timezone.utc)
    else:
        since = (now - timedelta(days=topic.window_days)).replace(hour=0, minute=0)
    return Window(since, now)

