"""Topic → arXiv query → papers, through the real `arxiv` client over HTTP.

What this adds to `arxiv.Client`: a transport that keeps every request, redirect hops and
retries included, `delay_seconds` apart, bounds each one by a deadline (not only the gap
between bytes) and by a size (decompressed), and refuses redirects off arXiv's host; retries
with exponential backoff that honour Retry-After on 429/5xx, connection errors (before or
after the headers), truncated or malformed documents, HTML pages and arXiv's spurious empty
pages (the first page too, when the store says the window holds papers); a check of every
page (totalResults, each entry's id and dates, a page sent again) so that no paper is dropped
silently; the API's 30,000-results-per-query cap (a larger window is split into date slices);
and a count of the HTTP requests made.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import arxiv
import requests
import tenacity
import urllib3
from lxml import etree
from tqdm import tqdm

from topic_report import TopicReportError
from topic_report.settings import API_MAX_RESULTS_PER_QUERY, Settings
from topic_report.store import Paper, RequestRecord
from topic_report.topics import Topic, quote_phrase

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
# Connecting takes milliseconds when arXiv is there; a network that drops packets should not
# cost the whole request timeout per attempt before the build falls back to stored papers.
CONNECT_TIMEOUT_SECONDS = 10
# Longest Retry-After we wait out; beyond it, failing clearly beats hanging for an hour.
MAX_RETRY_AFTER_SECONDS = 300
# export.arxiv.org redirects http to https at most; more hops than this is a loop.
MAX_REDIRECTS = 5
ENTRY_ID = re.compile(r"arxiv\.org/abs/(?P<id>.+?)v(?P<version>\d+)$")
# SQLite's INTEGER is 64-bit: a version of more digits cannot be stored (nor is it real).
MAX_VERSION_DIGITS = 18
CHUNK_BYTES = 64 * 1024
_ATOM = "{http://www.w3.org/2005/Atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"


class TransientPageError(Exception):
    """A page that must be asked for again: truncated, malformed, an HTML page, or unexpectedly
    empty or repeated."""


class FeedError(TopicReportError):
    """arXiv sent something that cannot be used as it is, and asking again would not help."""


class _RetryAfterTooLong(Exception):
    """arXiv asked for a longer pause than we are willing to wait."""


class ArxivUnreachable(TopicReportError):
    """No connection to arXiv can be made (the name does not resolve, or connecting fails)."""


class SweepTooLong(Exception):
    """More papers changed than one query can page through: fetch the whole window instead."""


@dataclass
class Fetched:
    """What one fetch brought: papers, what arXiv reported matching (the first answer's
    totalResults), each answered request, and whether the topic's max_results cut it."""

    papers: list[Paper] = field(default_factory=list)
    reported: int | None = None
    requests: list[RequestRecord] = field(default_factory=list)
    capped: bool = False


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
    or `(<the topic's own query>) ANDNOT (…) AND submittedDate:[…]`. Followed authors not pinned to
    one person widen the first part: `((…) AND (cat:…) OR (au:"name" OR …)) ANDNOT …`."""
    if topic.query is not None:
        query = f"({topic.query})"
    else:
        query = _phrases(topic.terms)
        if topic.categories:
            query += " AND (" + " OR ".join(f"cat:{c}" for c in topic.categories) + ")"
    by_name = [author.name for author in topic.authors if not author.pin]
    if by_name:  # AND binds tighter than OR in arXiv's syntax; the outer parentheses keep the window on all
        query = f"({query} OR (" + " OR ".join(f"au:{quote_phrase(name)}" for name in by_name) + "))"
    if topic.exclude:
        query += " ANDNOT " + _phrases(topic.exclude)
    if window:
        query += " AND " + window.clause()
    return query


def paper_from_result(result: arxiv.Result) -> Paper:
    match = ENTRY_ID.search(result.entry_id)
    if not match:
        raise FeedError(f"arXiv sent an entry id of unknown form: {_shown(result.entry_id)}")
    if len(match["version"]) > MAX_VERSION_DIGITS:
        raise FeedError(f"arXiv sent an impossible version number for {_shown(match['id'])}: "
                        f"v{_shown(match['version'])}")
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


class ResponseTooLarge(FeedError):
    """One response held more than the cap (`ARXIV_MAX_RESPONSE_MB`), decompressed."""


class RedirectRefused(FeedError):
    """A redirect off arXiv's host (or down from https to http)."""


_exchange = threading.local()  # the _Deadline of the HTTP exchange this thread is making


class _Deadline:
    """Ends one HTTP exchange at a fixed time, whatever it is doing (waiting for headers, reading
    a body that trickles in one byte at a time): it shuts the socket down, so the blocked read
    returns. urllib3's timeouts only bound the gap between two reads."""

    def __init__(self, seconds: float):
        self.passed = False
        self._connection = None  # until the headers are in: the socket is the connection's
        self._response: urllib3.HTTPResponse | None = None  # then the response's
        self._finished = False
        self._lock = threading.Lock()
        self._timer = self._start_timer(seconds)

    def _start_timer(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, self._expire)
        timer.daemon = True
        timer.start()
        return timer

    def watch(self, connection) -> None:
        with self._lock:
            self._connection = connection

    def watch_response(self, response: urllib3.HTTPResponse) -> None:
        with self._lock:
            self._response = response

    def _expire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.passed = True
            try:
                if self._response is not None:
                    self._response.shutdown()
                elif getattr(self._connection, "sock", None) is not None:
                    self._connection.sock.shutdown(socket.SHUT_RDWR)
                else:  # still connecting (bounded by the connect timeout): look again soon
                    self._timer = self._start_timer(0.05)
            except (OSError, ValueError, RuntimeError):
                pass  # already closed

    def __enter__(self) -> "_Deadline":
        _exchange.deadline = self
        return self

    def __exit__(self, *exc_info) -> None:
        _exchange.deadline = None
        with self._lock:
            self._finished = True
            self._timer.cancel()


class _WatchedPool:
    """Hands the connection an exchange takes from the pool to that exchange's deadline."""

    def _get_conn(self, timeout=None):
        connection = super()._get_conn(timeout)
        deadline = getattr(_exchange, "deadline", None)
        if deadline is not None:
            deadline.watch(connection)
        return connection


class _WatchedHTTPPool(_WatchedPool, urllib3.HTTPConnectionPool):
    pass


class _WatchedHTTPSPool(_WatchedPool, urllib3.HTTPSConnectionPool):
    pass


def _watched(manager: urllib3.PoolManager) -> urllib3.PoolManager:
    """The manager, its connections watched; a SOCKS proxy's keeps its own pools (unwatched
    until the headers are in, watched after)."""
    if manager.pool_classes_by_scheme is urllib3.poolmanager.pool_classes_by_scheme:
        manager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
    return manager


class _GuardedAdapter(requests.adapters.HTTPAdapter):
    """Every HTTP exchange, each redirect hop included: kept `delay_seconds` after the previous
    one ended (failed ones too), ended at `timeout_seconds` however the bytes come, its body
    read in chunks and refused past `max_bytes` decompressed (a gzip bomb stops there too)."""

    def __init__(self, settings: Settings):
        super().__init__()
        self.delay_seconds = settings.delay_seconds
        self.timeout_seconds = settings.timeout_seconds
        self.max_bytes = int(settings.max_response_mb * 1_000_000)
        self.max_mb = settings.max_response_mb
        self.requests_made = 0
        self.last_response: requests.Response | None = None
        self._last_ended: float | None = None

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        _watched(self.poolmanager)

    def proxy_manager_for(self, proxy, **kwargs):
        return _watched(super().proxy_manager_for(proxy, **kwargs))

    def send(self, request, stream=False, timeout=None, **kwargs):
        if self._last_ended is not None:
            time.sleep(max(0.0, self._last_ended + self.delay_seconds - time.monotonic()))
        self.requests_made += 1
        self.last_response = None
        timeouts = (min(CONNECT_TIMEOUT_SECONDS, self.timeout_seconds), self.timeout_seconds)
        try:
            with _Deadline(self.timeout_seconds) as deadline:
                try:
                    response = super().send(request, stream=True, timeout=timeouts, **kwargs)
                    deadline.watch_response(response.raw)
                    self.last_response = response
                    response._content = self._body(response)  # what requests' .content would hold
                except requests.RequestException as exc:
                    if deadline.passed:
                        raise self._late(request) from exc
                    raise
                if deadline.passed:  # cut off while reading the headers, it may look whole
                    raise self._late(request)
        finally:
            self._last_ended = time.monotonic()
        return response

    def _late(self, request) -> requests.ReadTimeout:
        return requests.ReadTimeout(f"no whole answer within {self.timeout_seconds:g} s", request=request)

    def _body(self, response: requests.Response) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response.close()
            raise ResponseTooLarge(f"arXiv announced {int(declared):,} bytes, {self._over_cap}")
        body = bytearray()
        for chunk in response.iter_content(CHUNK_BYTES):  # decompressed, at most CHUNK_BYTES each
            body += chunk
            if len(body) > self.max_bytes:
                response.close()
                raise ResponseTooLarge(f"arXiv sent {len(body):,} bytes and more, {self._over_cap}")
        return bytes(body)

    @property
    def _over_cap(self) -> str:
        return f"over the {self.max_mb:g} MB one response may hold (ARXIV_MAX_RESPONSE_MB)"


class _ArxivSession(requests.Session):
    """requests' session with the guarded transport; it follows at most MAX_REDIRECTS
    redirects, each one an exchange of its own, and only on arXiv's host (http to https of the
    same host is the one change allowed)."""

    def __init__(self, settings: Settings):
        super().__init__()
        self.max_redirects = MAX_REDIRECTS
        self.transport = _GuardedAdapter(settings)
        self.mount("http://", self.transport)
        self.mount("https://", self.transport)

    def get_redirect_target(self, response):
        location = super().get_redirect_target(response)
        if location:
            target = requests.compat.urljoin(response.url, location)
            if not redirect_allowed(response.url, target):
                raise RedirectRefused(f"arXiv redirected {_shown(response.url)} to {_shown(target)}; "
                                      "only redirects on the same host are followed")
        return location


def redirect_allowed(source: str, target: str) -> bool:
    """Same scheme, host and port; or http to https of the same host."""
    try:
        before, after = urllib3.util.parse_url(source), urllib3.util.parse_url(target)
    except urllib3.exceptions.LocationParseError:
        return False
    if not after.host or (before.host or "").lower() != after.host.lower():
        return False
    if before.scheme == after.scheme:
        return _port(before) == _port(after)
    return before.scheme == "http" and after.scheme == "https"


def _port(url: urllib3.util.Url) -> int | None:
    return url.port or {"http": 80, "https": 443}.get(url.scheme or "")


class ArxivSource:
    """Fetches topics from the arXiv API (or any server speaking it, e.g. the test emulator)."""

    def __init__(self, settings: Settings, progress: bool = True):
        self.settings = settings
        self.progress = progress
        self.client = arxiv.Client(page_size=settings.page_size, delay_seconds=settings.delay_seconds, num_retries=0)
        self.client.query_url_format = settings.api_url + "?{}"
        self.session = _ArxivSession(settings)
        self.client._session = self.session
        self._paging: tuple[str, set[str]] = ("", set())  # a query and the entry ids its pages sent

    @property
    def requests_made(self) -> int:
        return self.session.transport.requests_made

    def fetch(self, topic: Topic, window: Window, expect_results: bool = False) -> Fetched:
        """Every paper of the topic submitted in the window, newest first, up to the topic's cap.

        `expect_results`: the store already holds papers of this window, so an empty first
        page is arXiv's glitch, not an answer, and is asked for again.
        """
        fetched = Fetched()
        with self._progress(topic) as bar:
            self._fetch_window(topic, window, expect_results, fetched, bar)
        fetched.capped = len(fetched.papers) >= topic.max_results and (fetched.reported or 0) > topic.max_results
        return fetched

    def changes(self, topic: Topic, window: Window, changed_since: datetime, expect_results: bool) -> Fetched:
        """The topic's papers of the window that are new or have a new version since `changed_since`:
        its query sorted by last update, newest first, paged until it passes `changed_since`. One
        request when fewer than a page changed. Raises SweepTooLong past the API's 30,000 results."""
        search = arxiv.Search(query=build_query(topic, window), max_results=None,
                              sort_by=arxiv.SortCriterion.LastUpdatedDate, sort_order=arxiv.SortOrder.Descending)
        fetched = Fetched()
        with self._progress(topic) as bar:
            start = 0
            while True:
                if start >= API_MAX_RESULTS_PER_QUERY:
                    raise SweepTooLong(f"more than {API_MAX_RESULTS_PER_QUERY:,} papers changed")
                feed = self._answered(search, start, expect_results or start > 0, fetched)
                batch = [paper_from_result(r) for r in feed.results]
                fetched.papers.extend(batch)
                bar.update(len(batch))
                start += len(batch)
                if not batch or start >= fetched.reported or batch[-1].updated < changed_since:
                    break
                if len(fetched.papers) >= topic.max_results:
                    fetched.capped = True
                    break
        del fetched.papers[topic.max_results:]
        return fetched

    def _progress(self, topic: Topic) -> tqdm:
        return tqdm(desc=topic.slug, unit="paper", disable=None if self.progress else True, leave=False)

    def _answered(self, search: arxiv.Search, start: int, expect_results: bool, fetched: "Fetched"):
        """One page, recorded with what arXiv reported matching and what arrived."""
        feed = self._page(search, start, expect_results)
        total = feed.header.total_results
        fetched.requests.append(RequestRecord(search.query, search.sort_by.value, start, total, len(feed.results)))
        if fetched.reported is None:
            fetched.reported = total
        return feed

    def _fetch_window(self, topic, window, expect_results, fetched: "Fetched", bar) -> None:
        search = arxiv.Search(
            query=build_query(topic, window), max_results=None,
            sort_by=arxiv.SortCriterion.SubmittedDate, sort_order=arxiv.SortOrder.Descending,
        )
        papers = fetched.papers
        wanted = topic.max_results - len(papers)
        first = self._answered(search, 0, expect_results, fetched)
        total = first.header.total_results
        if min(total, wanted) > API_MAX_RESULTS_PER_QUERY and window.until - window.since > timedelta(minutes=1):
            newer, older = window.halves()
            self._fetch_window(topic, newer, False, fetched, bar)
            if len(papers) < topic.max_results:
                self._fetch_window(topic, older, False, fetched, bar)
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
            feed = self._answered(search, start, True, fetched)

    def _page(self, search: arxiv.Search, start: int, expect_results: bool):
        url = self.client._format_url(search, start, self.settings.page_size)

        def attempt():
            response = self.session.get(url, headers={"User-Agent": arxiv._USER_AGENT})
            if response.status_code != requests.codes.ok:
                raise arxiv.HTTPError(url, 0, response.status_code)
            feed = parse_page(response)
            self._check_paging(search.query, start, feed, expect_results)
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

    def _check_paging(self, query: str, start: int, feed, expect_results: bool) -> None:
        """The page fits the paging: not empty where results were announced or are known, no
        more entries than announced, not a page sent before (a server ignoring `start`)."""
        total, ids = feed.header.total_results, [result.entry_id for result in feed.results]
        if not ids and (expect_results or start < total):
            where = f"at {start} of the {total} results it announced" if start < total else "where results were expected"
            raise TransientPageError(f"arXiv sent an empty page {where}")
        if len(ids) > total - start:
            raise FeedError(f"arXiv announced {total} results but sent {len(ids)} from {start} on")
        seen = self._paging[1] if self._paging[0] == query and start > 0 else set()
        if start > 0 and ids and seen.issuperset(ids):
            raise TransientPageError(f"arXiv sent the same entries again for the page at {start} (is `start` ignored?)")
        self._paging = (query, seen | set(ids))

    def _wait(self, state: tenacity.RetryCallState) -> float:
        backoff = tenacity.wait_exponential(multiplier=max(self.settings.delay_seconds, 0.1), max=120)(state)
        return max(backoff, _retry_after(self.session.transport.last_response))

    def _explain(self, exc: Exception, attempts: int) -> TopicReportError:
        tries = f"after {attempts} attempt{'s' if attempts > 1 else ''}"
        if isinstance(exc, TopicReportError):
            return exc
        if isinstance(exc, arxiv.HTTPError):
            reason = _error_summary(self.session.transport.last_response)
            return TopicReportError(f"arXiv answered HTTP {exc.status}{': ' + reason if reason else ''} ({tries})")
        if _name_not_resolved(exc):
            return ArxivUnreachable(f"arXiv is unreachable ({_host(self.settings.api_url)} does not resolve)")
        if _no_connection(exc):
            return ArxivUnreachable(f"arXiv is unreachable (cannot connect to {self.settings.api_url}, {tries})")
        if isinstance(exc, requests.Timeout):
            return TopicReportError(f"arXiv did not answer within {self.settings.timeout_seconds:g} s ({tries})")
        if isinstance(exc, requests.TooManyRedirects):
            return TopicReportError(f"arXiv redirected more than {MAX_REDIRECTS} times (a redirect loop?)")
        if isinstance(exc, requests.exceptions.InvalidHeader):
            return TopicReportError(f"arXiv sent malformed HTTP headers: {_shown(str(exc), quoted=False)}")
        if isinstance(exc, requests.exceptions.ContentDecodingError):
            return TopicReportError(f"arXiv sent a compressed answer that does not decompress ({tries})")
        if isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
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
    # A connection broken after the headers (IncompleteRead, a reset mid-body) or a body
    # damaged on the way is as passing as one broken before them.
    return isinstance(exc, (requests.Timeout, requests.exceptions.ChunkedEncodingError,
                            requests.exceptions.ContentDecodingError, TransientPageError))


def parse_page(response: requests.Response):
    """The page as the `arxiv` package parses it, once the document is known to be whole: an
    Atom feed (not an HTML page), well-formed, with a numeric totalResults, every entry with an
    id and dates the package can read (it skips, or fails on, those it cannot)."""
    body = response.content
    if _looks_like_html(response):
        page = etree.HTML(body) if body.strip() else None
        title = page.findtext(".//title") if page is not None else None
        raise TransientPageError("arXiv sent an HTML page" + (f" ({_shown(title)})" if fold(title) else "")
                                 + " instead of an Atom feed")
    if not body.rstrip().endswith(b"</feed>"):
        raise TransientPageError("arXiv sent a truncated Atom document")
    try:
        root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise TransientPageError(f"arXiv sent a malformed Atom document ({_shown(str(exc))})") from None
    if root.tag != _ATOM + "feed":
        raise FeedError(f"arXiv sent a {_shown(etree.QName(root).localname)} document instead of an Atom feed")
    total = root.findtext(_OPENSEARCH + "totalResults")
    if total is None:
        raise FeedError("arXiv sent a page without totalResults")
    if not total.strip().isdigit():
        raise FeedError(f"arXiv sent totalResults {_shown(total)}, not a number")
    for number, entry in enumerate(root.iterfind(_ATOM + "entry"), 1):
        entry_id = fold(entry.findtext(_ATOM + "id"))
        if not entry_id:
            raise FeedError(f"arXiv sent an entry without id (entry {number} of the page at "
                            f"{fold(root.findtext(_OPENSEARCH + 'startIndex')) or '?'})")
        for field in ("published", "updated"):
            stamp = entry.findtext(_ATOM + field)
            if stamp is None:
                raise FeedError(f"arXiv sent {_shown(entry_id)} without a {field} date")
            try:
                arxiv._feed._parse_datetime(stamp)
            except ValueError:
                raise FeedError(f"arXiv sent {_shown(entry_id)} with the {field} date {_shown(stamp)}, "
                                "which is not a date") from None
    return arxiv._feed.parse(body)


def _looks_like_html(response: requests.Response) -> bool:
    head = response.content[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return True
    return "html" in response.headers.get("Content-Type", "").lower() and b"<feed" not in head


def _shown(text: str | None, limit: int = 80, quoted: bool = True) -> str:
    """Text from the network as it may appear in a one-line message: folded, shortened, and
    quoted (repr escapes control characters) or stripped of them, so that nothing reaches a
    terminal as a control sequence."""
    text = fold(text)
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return repr(text) if quoted else "".join(char for char in text if char.isprintable())


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
    return _shown(summary, 200, quoted=False)


def _no_connection(exc: BaseException) -> bool:
    """No connection could be made at all (refused, or no answer to connecting): arXiv is out of reach."""
    return isinstance(exc, requests.ConnectTimeout) or (
        isinstance(exc, requests.ConnectionError) and "NewConnectionError" in str(exc))


def _name_not_resolved(exc: BaseException) -> bool:
    text = str(exc)
    return "NameResolutionError" in text or "Name or service not known" in text or "nodename nor servname" in text


def _host(url: str) -> str:
    return requests.utils.urlparse(url).hostname or url
