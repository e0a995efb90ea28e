"""A hostile or broken server between topic-report and arXiv: endless and gzip-bomb bodies, a
trickle of one byte at a time, connections broken after the headers, lying or damaged feeds,
HTML pages, redirect loops and redirects elsewhere. A small loopback server of this file's own
stands in front of the emulator and spoils its answers; the real client (topic_report.arxiv) and the real
command do the rest. Each fault ends in success with every paper, or in one line naming what
arXiv sent with the store unchanged."""

from __future__ import annotations

import gzip
import re
import socket
import struct
import threading
import time
import tracemalloc
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from topic_report.arxiv.transport import redirect_allowed

from test_fetch import SEED_WINDOW, dump, fetch

# --- the hostile front ---------------------------------------------------------------------


@dataclass(frozen=True)
class Upstream:
    """The emulator's answer to the request, for a behaviour to pass on or spoil."""

    status: int
    body: bytes


Behaviour = Callable[[BaseHTTPRequestHandler, int, dict, Upstream], None]


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.front.handle(self)

    def log_message(self, format, *args) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # clients hang up on hostile answers; that is the point


class HostileFront:
    """A loopback server passing requests on to `upstream` (the emulator) and answering with
    `behaviour(handler, number, params, upstream_answer)`; number counts requests from 1."""

    def __init__(self, upstream: str):
        self.upstream = upstream
        self.behaviour: Behaviour = pass_on
        self.arrivals: list[float] = []  # time.monotonic() of each request
        self.paths: list[str] = []
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.front = self
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/api/query"

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        self.arrivals.append(time.monotonic())
        self.paths.append(handler.path)
        query = urlsplit(handler.path).query
        params = {name: values[-1] for name, values in parse_qs(query).items()}
        try:
            with urllib.request.urlopen(f"{self.upstream}?{query}", timeout=10) as answer:
                upstream = Upstream(answer.status, answer.read())
        except urllib.error.HTTPError as error:
            upstream = Upstream(error.code, error.read())
        self.behaviour(handler, len(self.arrivals), params, upstream)

    def __enter__(self) -> HostileFront:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


def answer(handler, status: int, body: bytes, content_type: str = "application/atom+xml; charset=utf-8",
           **headers: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(body)


def pass_on(handler, number, params, upstream: Upstream) -> None:
    answer(handler, upstream.status, upstream.body)


def spoiled(edit: Callable[[str], str], when: Callable[[int, dict], bool] = lambda number, params: True) -> Behaviour:
    """The emulator's document, edited as text where `when(number, params)` holds."""
    def behaviour(handler, number, params, upstream):
        body = edit(upstream.body.decode()).encode() if when(number, params) else upstream.body
        answer(handler, upstream.status, body)
    return behaviour


def on_second_page_once(number, params) -> bool:
    return params.get("start") == "5" and number == 2


@pytest.fixture
def front(env, emulator, monkeypatch):
    with HostileFront(emulator.url) as hostile:
        monkeypatch.setenv("ARXIV_API_URL", hostile.url)
        yield hostile


@pytest.fixture
def seeded(env, cli, front):
    """The store holding the seed's 2026-02-09 papers, fetched through the front untouched; the
    front's log starts empty afterwards."""
    code, _, err = fetch(cli, "--since", "2026-02-09", "--until", "2026-02-09")
    assert code == 0, err
    front.arrivals.clear()
    front.paths.clear()
    return dump(env / "papers.sqlite")


def fails_in_one_line(result, store, before, *fragments: str) -> str:
    code, out, err = result
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("topic-report: error: 3D Reconstruction: "), err
    for fragment in fragments:
        assert fragment in err
    assert dump(store) == before
    return err


# --- size -------------------------------------------------------------------------------------


def test_a_gzip_bomb_is_refused_at_the_cap_in_bounded_memory(env, cli, front, seeded, monkeypatch):
    monkeypatch.setenv("ARXIV_MAX_RESPONSE_MB", "1")
    bomb = gzip.compress(bytes(16 << 20)) * 16  # 255 KB that expand to 256 MiB (16 gzip members)

    def behaviour(handler, number, params, upstream):
        answer(handler, 200, bomb, Content_Encoding="gzip")
    front.behaviour = behaviour

    tracemalloc.start()
    try:
        result = fetch(cli, *SEED_WINDOW)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    fails_in_one_line(result, env / "papers.sqlite", seeded,
                      "over the 1 MB one response may hold (ARXIV_MAX_RESPONSE_MB)")
    assert peak < 32 << 20, f"{peak / 2**20:.0f} MiB held while refusing a gzip bomb"
    assert len(front.arrivals) == 1  # refused, not retried


def test_a_body_that_never_ends_is_cut_at_the_cap(env, cli, front, seeded, monkeypatch):
    monkeypatch.setenv("ARXIV_MAX_RESPONSE_MB", "1")

    def endless(handler, number, params, upstream):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/atom+xml")
        handler.end_headers()  # no length: the body ends when the connection does, here never
        spaces = b" " * 65536
        for _ in range(4096):  # 256 MiB, so that the test ends even where the cap is missing
            handler.wfile.write(spaces)
    front.behaviour = endless
    fails_in_one_line(fetch(cli, *SEED_WINDOW), env / "papers.sqlite", seeded,
                      "arXiv sent 1,0", "bytes and more, over the 1 MB one response may hold")


def test_a_body_announcing_more_than_the_cap_is_not_read(env, cli, front, seeded):
    def huge(handler, number, params, upstream):
        handler.send_response(200)
        handler.send_header("Content-Length", str(10 ** 12))
        handler.end_headers()
        handler.wfile.write(upstream.body)
    front.behaviour = huge
    fails_in_one_line(fetch(cli, *SEED_WINDOW), env / "papers.sqlite", seeded,
                      "arXiv announced 1,000,000,000,000 bytes, over the 64 MB one response may hold")


# --- time -------------------------------------------------------------------------------------


def trickle(from_status_line: bool) -> Behaviour:
    """The answer one byte every 50 ms (headers too, or only the body), for at most 30 s."""
    def behaviour(handler, number, params, upstream):
        head = (f"HTTP/1.0 200 OK\r\nContent-Type: application/atom+xml\r\n"
                f"Content-Length: {len(upstream.body)}\r\n\r\n").encode()
        if not from_status_line:
            handler.wfile.write(head)
            head = b""
        front = handler.server.front
        for byte in (head + upstream.body)[:600]:
            if front.stopping.wait(0.05):
                return
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
    return behaviour


@pytest.mark.parametrize("from_status_line", [False, True], ids=["body", "headers-and-body"])
def test_a_trickle_of_bytes_is_ended_by_the_timeout_and_retried(env, cli, front, seeded, monkeypatch,
                                                                 from_status_line):
    """Every byte comes well within the timeout; the whole answer would take 30 s."""
    monkeypatch.setenv("ARXIV_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("ARXIV_RETRIES", "1")
    front.behaviour = trickle(from_status_line)
    fails_in_one_line(fetch(cli, *SEED_WINDOW), env / "papers.sqlite", seeded,
                      "arXiv did not answer within 1 s (after 2 attempts)")
    assert len(front.arrivals) == 2


# --- connections broken after the headers --------------------------------------------------------


def half_then_close(handler, upstream: Upstream) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", str(len(upstream.body)))
    handler.end_headers()
    handler.wfile.write(upstream.body[: len(upstream.body) // 2])
    handler.wfile.flush()


def incomplete_read(handler, upstream):
    half_then_close(handler, upstream)  # then the connection closes: IncompleteRead
    handler.close_connection = True


def reset_mid_body(handler, upstream):
    half_then_close(handler, upstream)
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()  # linger 0: RST


def broken_chunks(handler, upstream):
    handler.send_response(200)
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    handler.wfile.write(b"%x\r\n%s\r\nnot-a-chunk-size\r\n" % (100, upstream.body[:100]))


def corrupt_gzip(handler, upstream):
    body = bytearray(gzip.compress(upstream.body))
    body[len(body) // 2:] = bytes(len(body) - len(body) // 2)
    answer(handler, 200, bytes(body), Content_Encoding="gzip")


@pytest.mark.parametrize("breakage", [incomplete_read, reset_mid_body, broken_chunks, corrupt_gzip])
def test_a_connection_broken_after_the_headers_is_retried_and_no_page_is_lost(env, cli, front, monkeypatch,
                                                                              breakage):
    monkeypatch.setenv("ARXIV_PAGE_SIZE", "5")

    def behaviour(handler, number, params, upstream):
        if on_second_page_once(number, params):
            breakage(handler, upstream)
        else:
            pass_on(handler, number, params, upstream)
    front.behaviour = behaviour
    code, out, err = fetch(cli, *SEED_WINDOW)
    assert code == 0, err
    assert "15 fetched, 15 new, 0 updated, 4 API requests" in out
    assert [re.search(r"start=(\d+)", path)[1] for path in front.paths] == ["0", "5", "5", "10"]


def test_a_connection_broken_every_time_fails_in_one_line(env, cli, front, seeded, monkeypatch):
    monkeypatch.setenv("ARXIV_RETRIES", "2")
    front.behaviour = lambda handler, number, params, upstream: incomplete_read(handler, upstream)
    fails_in_one_line(fetch(cli, *SEED_WINDOW), env / "papers.sqlite", seeded,
                      "the connection to arXiv broke off (after 3 attempts)")


@pytest.mark.parametrize("raw, message", [
    (b"", "the connection to arXiv broke off (after 2 attempts)"),
    (b"hello there\r\n\r\n", "the connection to arXiv broke off (after 2 attempts)"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n<feed", "arXiv sent malformed HTTP headers: "),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nabc",
     "the connection to arXiv broke off (after 2 attempts)"),
], ids=["nothing", "not-http", "two-lengths", "huge-chunk"])
def test_an_answer_that_is_not_http_fails_in_one_line(env, cli, front, seeded, monkeypatch, raw, message):
    monkeypatch.setenv("ARXIV_RETRIES", "1")

    def behaviour(handler, number, params, upstream):
        handler.wfile.write(raw)
        handler.close_connection = True
    front.behaviour = behaviour
    fails_in_one_line(fetch(cli, *SEED_WINDOW), env / "papers.sqlite", seeded, message)


# --- feeds that lie or lack what a paper needs ---------------------------------------------------


def test_a_page_with_an_unknown_entry_count_fails_in_one_line(env, cli, front, seeded, monkeypatch):
    """Without totalResults the `arxiv` package takes 0 and the page's papers were dropped."""
    monkeypatch.setenv("ARXIV_RETRIES", "0")
    front.behaviour = spoiled(lambda text: re.sub(r"<opensearch:totalResults>\d+</opensearch:totalResults>", "", text))
    fails_in_one_line(fetch(cli, *SEED_WINDOW), env / "papers.sqlite", seeded,
                      "arXiv sent a page without totalResults")
    front.behaviour = spoiled(lambda text: re.sub(r"(?<=<opensearch:totalResults>)\d+", "fifteen", text))
    fails_in_one_line(fetch(cli, *SEED_WINDOW), env / "papers.sqlite", seeded,
                      "arXiv sent totalResults 'fifteen', not a number")


def test_a_total_lower_than_the_entries_sent_fails_in_one_line(env, cli, front, seeded):
    front.behaviour = spoiled(lambda text: re.sub(r"(?<=<opensearch:totalResults>)\d+", "3", text))
    fails_in_one_line(fetch(cli, *SEED_WINDOW), env / "papers.sqlite", seeded,
                      "arXiv announced 3 results but sent 15 from 0 on")


def test_a_total_higher_than_the_entries_there_fails_in_one_line(env, cli, front, seeded, monkeypatch):
    monkeypatch.setenv("ARXIV_RETRIES", "1")
    front.behaviour = spoiled(lambda text: re.sub(r"(?<=<opensearch:totalResults>)\d+", "40", text))
    fails_in_one_line(fetch(cli, *SEED_WINDOW), env / "papers.sqlite", seeded,
                      "arXiv sent an empty page at 15 of the 40 results it announced (after 2 attempts)")


def test_a_server_ignoring_start_fails_in_one_line(env, cli, front, seeded, monkeypatch):
    monkeypatch.setenv("ARXIV_PAGE_SIZE", "5")
    monkeypatch.setenv("ARXIV_RETRIES", "1")
    first_page = {}

    def same_page(handler, number, params, upstream):
        first_page.setdefault("body", upstream.body)
        answer(handler, 200, first_page["body"])
    front.behaviour = same_page
    fails_in_one_line(fetch(cli, *SEED_WINDOW), env / "papers.sqlite", seeded,
                      "arXiv sent the same entries again for the page at 5 (is `start` ignored?) (after 2 attempts)")


def test_a_page_sent_again_once_is_asked_for_again(env, cli, front, monkeypatch):
    monkeypatch.setenv("ARXIV_PAGE_SIZE", "5")
    pages = {}

    def behaviour(handler, number, params, upstream):
        pages.setdefault(params["start"], upstream.body)
        body = pages["0"] if on_second_page_once(number, params) else upstream.body
        answer(handler, 200, body)
    front.behaviour = behaviour
    code, out, err = fetch(cli, *SEED_WINDOW)
    assert code == 0 and "15 fetched, 15 new, 0 updated, 4 API requests" in out, err


@pytest.mark.parametrize("edit, message", [
    (lambda text: re.sub(r"<id>http://arxiv.org/abs/2602.09934v1</id>", "", text),
     "arXiv sent an entry without id (entry 1 of the page at 0)"),
    (lambda text: re.sub(r"<published>[^<]*</published>", "", text, count=1),
     "arXiv sent 'http://arxiv.org/abs/2602.09934v1' without a published date"),
    (lambda text: re.sub(r"<updated>2026-02-10T00:00:00Z</updated>", "<updated>yesterday</updated>", text, count=1),
     "arXiv sent 'http://arxiv.org/abs/2602.09934v1' with the updated date 'yesterday', which is not a date"),
    (lambda text: text.replace("2602.09934v1</id>", "2602.09934v99999999999999999999</id>"),
     "arXiv sent an impossible version number for '2602.09934': v'99999999999999999999'"),
    (lambda text: text.replace("<id>http://arxiv.org/abs/2602.09934v1</id>", "<id>http://arxiv.org/abs/2602.09934</id>"),
     "arXiv sent an entry id of unknown form: 'http://arxiv.org/abs/2602.09934'"),
], ids=["no-id", "no-date", "bad-date", "huge-version", "no-version"])
def test_an_entry_arxiv_cannot_have_sent_fails_in_one_line(env, cli, front, seeded, edit, message):
    front.behaviour = spoiled(edit)
    fails_in_one_line(fetch(cli, *SEED_WINDOW), env / "papers.sqlite", seeded, message)
    assert len(front.arrivals) == 1  # asking again would not help


def test_an_html_page_is_named_as_such_and_retried(env, cli, front, seeded, monkeypatch):
    monkeypatch.setenv("ARXIV_RETRIES", "1")
    page = b"<!DOCTYPE html>\n<html><head><title>arXiv is down \x1b[31mfor maintenance</title></head><body>Back soon</body></html>"
    front.behaviour = lambda handler, number, params, upstream: answer(handler, 200, page, "text/html")
    err = fails_in_one_line(fetch(cli, *SEED_WINDOW), env / "papers.sqlite", seeded,
                            "arXiv sent an HTML page ('arXiv is down \\x1b[31mfor maintenance') instead of an Atom feed "
                            "(after 2 attempts)")
    assert "\x1b" not in err  # the page's text reaches the terminal escaped


# --- redirects ----------------------------------------------------------------------------------


def test_a_redirect_loop_ends_after_five_hops_each_kept_apart(env, cli, front, seeded, monkeypatch):
    monkeypatch.setenv("ARXIV_DELAY_SECONDS", "0.2")

    def loop(handler, number, params, upstream):
        answer(handler, 302, b"", "text/plain", Location=handler.path)
    front.behaviour = loop
    fails_in_one_line(fetch(cli, *SEED_WINDOW), env / "papers.sqlite", seeded,
                      "arXiv redirected more than 5 times (a redirect loop?)")
    assert len(front.arrivals) == 6
    gaps = [later - earlier for earlier, later in zip(front.arrivals, front.arrivals[1:], strict=False)]
    assert min(gaps) >= 0.19, gaps  # each hop is a request of its own for the 3-second rule


def test_a_redirect_to_another_host_is_refused(env, cli, front, seeded):
    def elsewhere(handler, number, params, upstream):
        answer(handler, 301, b"", "text/plain", Location=f"http://localhost:{front.port}{handler.path}")
    front.behaviour = elsewhere
    fails_in_one_line(fetch(cli, *SEED_WINDOW), env / "papers.sqlite", seeded,
                      "arXiv redirected 'http://127.0.0.1:", f"to 'http://localhost:{front.port}/api/query?",
                      "only redirects on the same host are followed")
    assert len(front.arrivals) == 1


def test_a_redirect_on_the_same_host_is_followed(env, cli, front):
    def moved(handler, number, params, upstream):
        if handler.path.startswith("/api/query?"):
            answer(handler, 301, b"", "text/plain", Location=handler.path.replace("/api/query?", "/api/v2/query?"))
        else:
            pass_on(handler, number, params, upstream)
    front.behaviour = moved
    code, out, err = fetch(cli, *SEED_WINDOW)
    assert code == 0 and "15 fetched, 15 new, 0 updated, 2 API requests" in out, err


@pytest.mark.parametrize("source, target, allowed", [
    ("http://export.arxiv.org/api/query?a=1", "https://export.arxiv.org/api/query?a=1", True),
    ("https://export.arxiv.org/api/query", "https://EXPORT.arxiv.org/api/v2/query", True),
    ("https://export.arxiv.org/api/query", "http://export.arxiv.org/api/query", False),
    ("https://export.arxiv.org/api/query", "https://evil.example/api/query", False),
    ("https://export.arxiv.org/api/query", "https://export.arxiv.org.evil.example/api/query", False),
    ("http://127.0.0.1:8080/api/query", "http://127.0.0.1:9090/api/query", False),
    ("http://export.arxiv.org/api/query", "http://export.arxiv.org:80/api/query", True),
    ("https://export.arxiv.org/api/query", "file:///etc/passwd", False),
    ("https://export.arxiv.org/api/query", "https://export.arxiv.org:99999999/x", False),
])
def test_which_redirects_are_followed(source, target, allowed):
    assert redirect_allowed(source, target) is allowed


# --- settings and options -----------------------------------------------------------------------


@pytest.mark.parametrize("name, value, message", [
    ("ARXIV_TIMEOUT_SECONDS", "nan", "ARXIV_TIMEOUT_SECONDS='nan' is not a finite number"),
    ("ARXIV_TIMEOUT_SECONDS", "inf", "ARXIV_TIMEOUT_SECONDS='inf' is not a finite number"),
    ("ARXIV_DELAY_SECONDS", "nan", "ARXIV_DELAY_SECONDS='nan' is not a finite number"),
    ("ARXIV_DELAY_SECONDS", "-inf", "ARXIV_DELAY_SECONDS='-inf' is not a finite number"),
    ("ARXIV_DELAY_SECONDS", "1e300", "ARXIV_DELAY_SECONDS='1e300' must be at most 86400"),
    ("ARXIV_RETRIES", "two", "ARXIV_RETRIES='two' is not a whole number"),
    ("ARXIV_MAX_RESPONSE_MB", "0", "ARXIV_MAX_RESPONSE_MB='0' must be at least 0.01"),
    ("ARXIV_API_URL", "https://export.arxiv.org/api/query?x=1",
     "ARXIV_API_URL='https://export.arxiv.org/api/query?x=1' has a query string or fragment"),
    ("ARXIV_API_URL", "https://export.arxiv.org/api/{0}", "ARXIV_API_URL='https://export.arxiv.org/api/{0}' has braces"),
    ("ARXIV_API_URL", "export.arxiv.org/api/query", "ARXIV_API_URL='export.arxiv.org/api/query' is not an http(s) URL"),
    ("ARXIV_API_URL", "http://localhost:99999/api", "ARXIV_API_URL='http://localhost:99999/api' is not an http(s) URL"),
])
def test_bad_environment_values_get_one_line(env, cli, monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    code, out, err = fetch(cli)
    assert code == 1 and out == ""
    assert err.startswith(f"topic-report: error: {message}") and len(err.splitlines()) == 1, err


def test_until_alone_before_the_topics_window_names_that_window(env, cli):
    code, out, err = fetch(cli, "--until", "2001-01-01")
    assert code == 1 and out == ""
    assert re.fullmatch(r"topic-report: error: 3D Reconstruction: --until 2001-01-01 is before the start of the "
                        r"topic's window, \d{4}-\d\d-\d\d; give --since too\n", err), err


def test_since_alone_in_the_future_says_so(env, cli):
    code, out, err = fetch(cli, "--since", "2999-01-01")
    assert code == 1 and out == ""
    assert re.fullmatch(r"topic-report: error: 3D Reconstruction: --since 2999-01-01 is after today, "
                        r"\d{4}-\d\d-\d\d\n", err), err
