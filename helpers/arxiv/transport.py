"""One HTTP exchange with the arXiv API: kept `delay_seconds` after the previous one ended (failed
ones and redirect hops too: arXiv asks for one request every three seconds), ended at
`timeout_seconds` however the bytes come, its body refused past `max_response_mb` decompressed,
redirects followed only on arXiv's host, every exchange counted.

Why not the `arxiv` package's client: its public API (`arxiv.Client.results`) fetches and parses
in one call with requests' defaults, whose timeout bounds only the gap between two reads, whose
body has no bound and whose redirects go anywhere. So this module talks HTTP itself, through
these public parts of requests and urllib3:

- the size cap: `requests.get(stream=True)` and `Response.iter_content`, counted against a byte
  budget; urllib3 (>= 2.6) decompresses at most a chunk per read, so a gzip bomb stops there too;
- the deadline: a timer that shuts the exchange's socket down, so that a blocked read returns.
  Before the headers the socket is the connection's: the pools' `ConnectionCls` (urllib3's
  documented hook for the connection class) is a subclass that tells the exchange which
  connection it uses (`HTTPConnection.sock`); after them, `urllib3.HTTPResponse.shutdown()`
  through `Response.raw`;
- redirects: `allow_redirects=False`, and each hop (`Response.is_redirect`,
  `Session.get_redirect_target`) checked and asked for here, an exchange of its own.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from importlib.metadata import version
from urllib.parse import urljoin

import requests
import urllib3
from requests.structures import CaseInsensitiveDict

from topic_report import PROG, TopicReportError
from topic_report.settings import Settings

# Connecting takes milliseconds when arXiv is there; a network that drops packets should not
# cost the whole request timeout per attempt before the build falls back to stored papers.
CONNECT_TIMEOUT_SECONDS = 10
# export.arxiv.org redirects http to https at most; more hops than this is a loop.
MAX_REDIRECTS = 5
CHUNK_BYTES = 64 * 1024
USER_AGENT = f"{PROG}/{version('topic-report')}"


class ResponseTooLarge(TopicReportError):
    """One response held more than the cap (`ARXIV_MAX_RESPONSE_MB`), decompressed."""


class RedirectRefused(TopicReportError):
    """A redirect off arXiv's host (or down from https to http)."""


@dataclass(frozen=True)
class Answer:
    """What one request brought: the status, headers and whole body of its last hop."""

    url: str
    status: int
    headers: CaseInsensitiveDict
    body: bytes


def shown(text: str | None, limit: int = 80, quoted: bool = True) -> str:
    """Text from the network as it may appear in a one-line message: folded, shortened, and
    quoted (repr escapes control characters) or stripped of them, so that nothing reaches a
    terminal as a control sequence."""
    text = " ".join((text or "").split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return repr(text) if quoted else "".join(char for char in text if char.isprintable())


_exchange = threading.local()  # the _Deadline of the HTTP exchange this thread is making


class _Deadline:
    """Ends one HTTP exchange at a fixed time, whatever it is doing (waiting for headers, reading
    a body that trickles in one byte at a time): it shuts the socket down, so the blocked read
    returns. urllib3's timeouts only bound the gap between two reads."""

    def __init__(self, seconds: float):
        self.passed = False
        self._connection: urllib3.connection.HTTPConnection | None = None  # until the headers are in
        self._response: urllib3.HTTPResponse | None = None  # then the response's socket
        self._finished = False
        self._lock = threading.Lock()
        self._timer = self._start_timer(seconds)

    def _start_timer(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, self._expire)
        timer.daemon = True
        timer.start()
        return timer

    def watch(self, connection: urllib3.connection.HTTPConnection) -> None:
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

    def __enter__(self) -> _Deadline:
        _exchange.deadline = self
        return self

    def __exit__(self, *exc_info) -> None:
        _exchange.deadline = None
        with self._lock:
            self._finished = True
            self._timer.cancel()


class _Watched:
    """A connection that hands itself to the deadline of the exchange using it: when it connects
    (https connects before sending) and when it sends a request (a kept-alive one is reused)."""

    def connect(self) -> None:
        self._watched()
        super().connect()

    def request(self, *args, **kwargs) -> None:
        self._watched()
        super().request(*args, **kwargs)

    def _watched(self) -> None:
        deadline = getattr(_exchange, "deadline", None)
        if deadline is not None:
            deadline.watch(self)


class _WatchedHTTPConnection(_Watched, urllib3.connection.HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, urllib3.connection.HTTPSConnection):
    pass


class _WatchedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def _watched(manager: urllib3.PoolManager) -> urllib3.PoolManager:
    """The manager, its connections watched; a SOCKS proxy's keeps its own pools (unwatched
    until the headers are in, watched after)."""
    if manager.pool_classes_by_scheme is urllib3.poolmanager.pool_classes_by_scheme:
        manager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
    return manager


class _WatchedAdapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        _watched(self.poolmanager)

    def proxy_manager_for(self, proxy, **kwargs):
        return _watched(super().proxy_manager_for(proxy, **kwargs))


class Transport:
    """HTTP GETs to the arXiv API, each bounded and kept apart (see the module's docstring)."""

    def __init__(self, settings: Settings):
        self.delay_seconds = settings.delay_seconds
        self.timeout_seconds = settings.timeout_seconds
        self.max_bytes = int(settings.max_response_mb * 1_000_000)
        self.max_mb = settings.max_response_mb
        self.requests_made = 0
        self._last_ended: float | None = None
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        adapter = _WatchedAdapter()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def get(self, url: str) -> Answer:
        """The answer at `url`, after at most MAX_REDIRECTS redirects on arXiv's host (http to
        https of the same host is the one change allowed)."""
        for _ in range(MAX_REDIRECTS + 1):
            answer, target = self._exchange(url)
            if target is None:
                return answer
            url = target
        raise requests.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects")

    def _exchange(self, url: str) -> tuple[Answer | None, str | None]:
        """One request: its answer, or where it redirects to."""
        if self._last_ended is not None:
            time.sleep(max(0.0, self._last_ended + self.delay_seconds - time.monotonic()))
        self.requests_made += 1
        timeouts = (min(CONNECT_TIMEOUT_SECONDS, self.timeout_seconds), self.timeout_seconds)
        try:
            with _Deadline(self.timeout_seconds) as deadline:
                try:
                    with self.session.get(url, stream=True, timeout=timeouts, allow_redirects=False) as response:
                        deadline.watch_response(response.raw)
                        if response.is_redirect:
                            return None, self._redirect_target(response)
                        answer = Answer(response.url, response.status_code, response.headers, self._body(response))
                except requests.RequestException as exc:
                    if deadline.passed:
                        raise self._late(url) from exc
                    raise
                if deadline.passed:  # cut off while reading the headers, it may look whole
                    raise self._late(url)
        finally:
            self._last_ended = time.monotonic()
        return answer, None

    def _late(self, url: str) -> requests.ReadTimeout:
        return requests.ReadTimeout(f"no whole answer within {self.timeout_seconds:g} s of {url}")

    def _redirect_target(self, response: requests.Response) -> str:
        target = urljoin(response.url, self.session.get_redirect_target(response))
        if not redirect_allowed(response.url, target):
            raise RedirectRefused(f"arXiv redirected {shown(response.url)} to {shown(target)}; "
                                  "only redirects on the same host are followed")
        return target

    def _body(self, response: requests.Response) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise ResponseTooLarge(f"arXiv announced {int(declared):,} bytes, {self._over_cap}")
        body = bytearray()
        for chunk in response.iter_content(CHUNK_BYTES):  # decompressed, at most CHUNK_BYTES each
            body += chunk
            if len(body) > self.max_bytes:
                raise ResponseTooLarge(f"arXiv sent {len(body):,} bytes and more, {self._over_cap}")
        return bytes(body)

    @property
    def _over_cap(self) -> str:
        return f"over the {self.max_mb:g} MB one response may hold (ARXIV_MAX_RESPONSE_MB)"


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
