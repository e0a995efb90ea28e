"""A topic's query paged through the arXiv API until its papers are all in.

What this adds to the transport and the feed: retries with exponential backoff (tenacity) that
honour Retry-After on 429/5xx, connection errors (before or after the headers), truncated or
malformed documents, HTML pages and arXiv's spurious empty pages (the first page too, when the
store says the window holds papers); a check of every page (totalResults, a page sent again) so
that no paper is dropped silently; the API's 30,000-results-per-query cap (a larger window is
split into date slices); and a one-line explanation of whatever failed, chosen by the type of
the error (requests', urllib3's, the socket's underneath), never by its message.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar
from urllib.parse import urlsplit

import arxiv
import requests
import tenacity
import urllib3
from tqdm import tqdm

from topic_report import TopicReportError
from topic_report.arxiv.feed import FeedError, Page, TransientPageError, error_message, parse_page
from topic_report.arxiv.query import Window, build_query, request_url
from topic_report.arxiv.transport import MAX_REDIRECTS, Answer, Transport, shown
from topic_report.settings import API_MAX_RESULTS_PER_QUERY, Settings
from topic_report.store import Paper, RequestRecord
from topic_report.topics import Topic

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
# Ids per `id_list` request: a page of them stays a short URL and a small answer.
ID_LIST_SIZE = 100
T = TypeVar("T")
# Longest Retry-After we wait out; beyond it, failing clearly beats hanging for an hour.
MAX_RETRY_AFTER_SECONDS = 300


T = TypeVar("T")


class ArxivUnreachable(TopicReportError):
    """No connection to arXiv can be made (the name does not resolve, or connecting fails)."""


class SweepTooLong(Exception):
    """More papers changed than one query can page through: fetch the whole window instead."""


class NothingWhereExpected(TopicReportError):
    """arXiv answered nothing, again and again, where the store holds papers of the query."""


class _EmptyWhereExpected(TransientPageError):
    """An empty page where the store says the query has results: arXiv's glitch, or a change."""


class _HTTPStatus(Exception):
    """arXiv answered with a status other than 200 OK."""

    def __init__(self, answer: Answer):
        super().__init__(answer.status)
        self.answer = answer


class _RetryAfterTooLong(Exception):
    """arXiv asked for a longer pause than we are willing to wait."""


@dataclass
class Fetched:
    """What one fetch brought: how many papers, handed page by page to `keep` (a topic's thousands
    are not held here) or else held in `papers`; what arXiv reported matching (the first
    answer's totalResults), each answered request, and whether the topic's max_results cut it."""

    papers: list[Paper] = field(default_factory=list)
    reported: int | None = None
    requests: list[RequestRecord] = field(default_factory=list)
    capped: bool = False
    arrived: int = 0
    keep: Callable[[list[Paper]], None] | None = None

    def take(self, papers: list[Paper]) -> None:
        self.arrived += len(papers)
        (self.keep or self.papers.extend)(papers)


class ArxivSource:
    """Fetches topics from the arXiv API (or any server speaking it, e.g. the test emulator)."""

    def __init__(self, settings: Settings, progress: bool = True):
        self.settings = settings
        self.progress = progress
        self.transport = Transport(settings)
        self._paging: tuple[str, set[str]] = ("", set())  # a query and the entry ids its pages sent

    @property
    def requests_made(self) -> int:
        return self.transport.requests_made

    def fetch(self, topic: Topic, window: Window, keep: Callable[[list[Paper]], None],
              expect_results: bool = False) -> Fetched:
        """Every paper of the topic submitted in the window, newest first, up to the topic's cap,
        handed to `keep` page by page.

        `expect_results`: the store already holds papers of this window, so an empty first
        page is arXiv's glitch, not an answer, and is asked for again.
        """
        fetched = Fetched(keep=keep)
        with self._progress(topic) as bar:
            self._fetch_window(topic, window, expect_results, fetched, bar)
        fetched.capped = fetched.arrived >= topic.max_results and (fetched.reported or 0) > topic.max_results
        return fetched

    def changes(self, topic: Topic, window: Window, keep: Callable[[list[Paper]], None], *, changed_since: datetime,
                settled: datetime, held: set[str], first_page: int) -> Fetched:
        """The topic's papers of the window that are new or have a new version since `changed_since`:
        its query sorted by last update, newest first, paged until it passes `changed_since`, or
        earlier: once past `settled` (every version before it was shown to the last run) when
        arXiv's count of the window's papers shows none but those `held` (the ids the store holds
        of the window) and those read, so no paper was announced late. The first page asks for
        `first_page` entries (the changes expected), the next ones for a full page: a quiet day is
        one small request. The papers are handed to `keep` page by page, up to the topic's cap.
        Raises SweepTooLong past the API's 30,000 results."""
        search = arxiv.Search(query=build_query(topic, window), max_results=None,
                              sort_by=arxiv.SortCriterion.LastUpdatedDate, sort_order=arxiv.SortOrder.Descending)
        fetched = Fetched(keep=keep)
        seen: set[str] = set()
        with self._progress(topic) as bar:
            start, size = 0, min(first_page, self.settings.page_size)
            while True:
                if start >= API_MAX_RESULTS_PER_QUERY:
                    raise SweepTooLong(f"more than {API_MAX_RESULTS_PER_QUERY:,} papers changed")
                batch = self._answered(search, start, bool(held) or start > 0, fetched, size).papers
                room = topic.max_results - fetched.arrived
                fetched.take(batch[:room])
                # A page that crosses the cap with changes is cut: said and recorded, so that
                # raising the cap fetches the rest.
                fetched.capped = any(paper.updated >= changed_since for paper in batch[room:])
                seen.update(paper.id for paper in batch)
                bar.update(len(batch))
                start += len(batch)
                if not batch or start >= fetched.reported or batch[-1].updated < changed_since:
                    break
                if batch[-1].updated < settled and len(held | seen) == fetched.reported:
                    break
                if fetched.arrived >= topic.max_results:
                    fetched.capped = True
                    break
                size = self.settings.page_size
        return fetched

    def _progress(self, topic: Topic) -> tqdm:
        return tqdm(desc=topic.slug, unit="paper", disable=None if self.progress else True, leave=False)

    def _answered(self, search: arxiv.Search, start: int, expect_results: bool, fetched: Fetched,
                  size: int | None = None) -> Page:
        """One page of `size` entries (default: the page size), recorded with what arXiv reported
        matching and what arrived."""
        page = self._page(search, start, expect_results, size or self.settings.page_size)
        fetched.requests.append(RequestRecord(search.query, search.sort_by.value, start, page.total, len(page.papers)))
        if fetched.reported is None:
            fetched.reported = page.total
        return page

    def _fetch_window(self, topic: Topic, window: Window, expect_results: bool, fetched: Fetched, bar) -> None:
        search = arxiv.Search(
            query=build_query(topic, window), max_results=None,
            sort_by=arxiv.SortCriterion.SubmittedDate, sort_order=arxiv.SortOrder.Descending,
        )
        wanted = topic.max_results - fetched.arrived
        page = self._answered(search, 0, expect_results, fetched)
        if min(page.total, wanted) > API_MAX_RESULTS_PER_QUERY and window.until - window.since > timedelta(minutes=1):
            del page  # the halves bring its papers: not held while they are fetched
            newer, older = window.halves()
            self._fetch_window(topic, newer, False, fetched, bar)
            if fetched.arrived < topic.max_results:
                self._fetch_window(topic, older, False, fetched, bar)
            return
        reachable = min(page.total, wanted, API_MAX_RESULTS_PER_QUERY)
        bar.total = (bar.total or 0) + reachable
        start = 0
        while True:
            batch = page.papers[: reachable - start]
            fetched.take(batch)
            bar.update(len(batch))
            start += len(page.papers)
            if start >= reachable or not page.papers:
                return
            page = self._answered(search, start, True, fetched)

    def _page(self, search: arxiv.Search, start: int, expect_results: bool, size: int) -> Page:
        def read(answer: Answer) -> Page:
            page = parse_page(answer.body, answer.headers.get("Content-Type", ""))
            self._check_paging(search.query, start, page, expect_results)
            return page

        return self.get(request_url(self.settings.api_url, search, start, size), read)

    def get(self, url: str, read: Callable[[Answer], T], missing: str | None = None) -> T:
        """What `read` makes of the answer at `url`, from any of arXiv's interfaces (the API, the
        listing, OAI-PMH, an author's feed): one transport for all, so arXiv's 3 seconds separate
        every request; retried with backoff (Retry-After honoured) while the failure is passing,
        explained in one line when it is not. `read` raises TransientPageError for an answer worth
        asking again. `missing`: the line for an answer "404 not found", which asking again would
        not change."""

        def attempt() -> T:
            answer = self.transport.get(url)
            if answer.status == requests.codes.not_found and missing:
                raise FeedError(missing)
            if answer.status != requests.codes.ok:
                raise _HTTPStatus(answer)
            return read(answer)

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(_is_transient),
            stop=tenacity.stop_after_attempt(self.settings.retries + 1),
            wait=self._wait,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except Exception as exc:  # one line for the user, whatever went wrong below
            raise self._explain(exc, retrying.statistics.get("attempt_number", 1), url) from exc

    def by_id(self, ids: list[str], query: str = "") -> Fetched:
        """The papers of these arXiv ids (without version) that arXiv serves, newest version, with
        one `id_list` request per ID_LIST_SIZE ids; with a `query`, only those it matches (the
        API User's Manual: "the intersection"). An id arXiv does not serve yet is left out."""
        fetched = Fetched()
        size = min(ID_LIST_SIZE, self.settings.page_size)
        for first in range(0, len(ids), size):
            search = arxiv.Search(query=query, id_list=ids[first: first + size], max_results=None)
            fetched.take(self._answered(search, 0, False, fetched).papers)
        return fetched

    def _check_paging(self, query: str, start: int, page: Page, expect_results: bool) -> None:
        """The page fits the paging: not empty where results were announced or are known, no
        more entries than announced, not a page sent before (a server ignoring `start`)."""
        total, ids = page.total, [paper.versioned_id for paper in page.papers]
        if not ids and start < total:
            raise TransientPageError(f"arXiv sent an empty page at {start} of the {total} results it announced")
        if not ids and expect_results:
            raise _EmptyWhereExpected("arXiv sent an empty page where results were expected")
        if len(ids) > total - start:
            raise FeedError(f"arXiv announced {total} results but sent {len(ids)} from {start} on")
        seen = self._paging[1] if self._paging[0] == query and start > 0 else set()
        if start > 0 and ids and seen.issuperset(ids):
            raise TransientPageError(f"arXiv sent the same entries again for the page at {start} (is `start` ignored?)")
        self._paging = (query, seen | set(ids))

    def _wait(self, state: tenacity.RetryCallState) -> float:
        backoff = tenacity.wait_exponential(multiplier=max(self.settings.delay_seconds, 0.1), max=120)(state)
        failure = state.outcome.exception() if state.outcome else None
        return max(backoff, _retry_after(failure.answer) if isinstance(failure, _HTTPStatus) else 0.0)

    def _explain(self, exc: Exception, attempts: int, url: str) -> TopicReportError:
        tries = f"after {attempts} attempt{'s' if attempts > 1 else ''}"
        if isinstance(exc, TopicReportError):
            return exc
        if isinstance(exc, _HTTPStatus):
            reason = error_message(exc.answer.body)
            return TopicReportError(f"arXiv answered HTTP {exc.answer.status}{': ' + reason if reason else ''} ({tries})")
        if _name_not_resolved(exc):
            return ArxivUnreachable(f"arXiv is unreachable ({_host(url)} does not resolve)")
        if _no_connection(exc):
            return ArxivUnreachable(f"arXiv is unreachable (cannot connect to {_endpoint(url)}, {tries})")
        if isinstance(exc, requests.Timeout):
            return TopicReportError(f"arXiv did not answer within {self.settings.timeout_seconds:g} s ({tries})")
        if isinstance(exc, requests.TooManyRedirects):
            return TopicReportError(f"arXiv redirected more than {MAX_REDIRECTS} times (a redirect loop?)")
        if isinstance(exc, requests.exceptions.InvalidHeader):
            return TopicReportError(f"arXiv sent malformed HTTP headers: {shown(str(exc), quoted=False)}")
        if isinstance(exc, requests.exceptions.ContentDecodingError):
            return TopicReportError(f"arXiv sent a compressed answer that does not decompress ({tries})")
        if isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            return TopicReportError(f"the connection to arXiv broke off ({tries})")
        if isinstance(exc, _EmptyWhereExpected):
            return NothingWhereExpected(f"{exc} ({tries})")
        if isinstance(exc, TransientPageError):
            return TopicReportError(f"{exc} ({tries})")
        if isinstance(exc, _RetryAfterTooLong):
            return TopicReportError(str(exc))
        return TopicReportError(f"unexpected failure talking to arXiv: {type(exc).__name__}: {exc}")


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, _HTTPStatus):
        return exc.answer.status in RETRYABLE_STATUS
    if isinstance(exc, requests.ConnectionError):
        return not _name_not_resolved(exc)
    # A connection broken after the headers (IncompleteRead, a reset mid-body) or a body
    # damaged on the way is as passing as one broken before them.
    return isinstance(exc, (requests.Timeout, requests.exceptions.ChunkedEncodingError,
                            requests.exceptions.ContentDecodingError, TransientPageError))


def _retry_after(answer: Answer) -> float:
    value = answer.headers.get("Retry-After")
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        return 0.0
    if seconds > MAX_RETRY_AFTER_SECONDS:
        raise _RetryAfterTooLong(f"arXiv asked to wait {seconds:g} s before retrying; try again later")
    return seconds


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The error and those it was raised from or while handling: requests wraps urllib3's,
    which wraps the socket's."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _name_not_resolved(exc: BaseException) -> bool:
    return any(isinstance(cause, socket.gaierror) for cause in _causes(exc))


def _no_connection(exc: BaseException) -> bool:
    """No connection could be made at all (refused, or no answer to connecting): arXiv is out of reach."""
    return isinstance(exc, requests.ConnectTimeout) or any(
        isinstance(cause, urllib3.exceptions.NewConnectionError) for cause in _causes(exc))


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def _endpoint(url: str) -> str:
    """The URL without its query: the endpoint the user configured."""
    return url.split("?", 1)[0]
