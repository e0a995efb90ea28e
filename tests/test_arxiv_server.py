"""The loopback arXiv emulator over real HTTP: recordings, Atom format, query language, paging,
sorting, the 30,000-result cap, faults, the request log and the command line."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import arxiv
import pytest
import requests
from lxml import etree

from arxiv_server import (
    MAX_RESULTS_PER_QUERY,
    RECORDED_DIR,
    SHARED_DIR,
    ArxivEmulator,
    atom_feed,
    load_atom,
    load_jsonl,
    unused_port,
)
from conftest import needs_shared

ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
CORPUS_3D = SHARED_DIR / "corpora" / "3d-reconstruction-real.jsonl"
RECORDINGS = sorted(RECORDED_DIR.glob("*.json"))
PROJECT_QUERY = (
    '(ti:"3D reconstruction" OR abs:"3D reconstruction") AND (cat:cs.CV OR cat:cs.RO)'
    " AND submittedDate:[202602010000 TO 202602112359]"
)


def paper(n: int, **fields) -> dict:
    """A small paper in the corpus schema; `fields` override the defaults."""
    record = {
        "id": f"2602.{n:05d}", "version": 1, "title": f"Paper {n}", "authors": ["Ann Author"],
        "abstract": "Nothing to see.", "published": "2026-02-10T12:00:00Z", "updated": "2026-02-10T12:00:00Z",
        "categories": ["cs.CV"], "primary_category": "cs.CV",
    }
    record.update(fields)
    return record


PAPERS = [
    paper(1, title="Fast 3D-Reconstruction from Video", abstract="We reconstruct scenes.",
          authors=["Ada Lovelace", "Alan Turing"], categories=["cs.CV", "cs.GR"],
          published="2026-02-01T00:00:00Z", updated="2026-02-20T08:00:00Z",
          comment="10 pages", journal_ref="J. Vis. 12 (2026)", doi="10.1000/xyz"),
    paper(2, title="Gaussian Splatting for Robots", abstract="3D reconstruction with neural networks.",
          authors=["Grace Hopper"], categories=["cs.RO"], primary_category="cs.RO",
          published="2026-02-05T13:30:00Z", updated="2026-02-05T13:30:00Z"),
    paper(3, title="Language Models", abstract="A net for text.", authors=["Alan Kay", "Ada Smith"],
          categories=["cs.CL"], primary_category="cs.CL",
          published="2026-02-11T23:59:30Z", updated="2026-02-11T23:59:30Z"),
    paper(4, title="Reconstruction in 3D of Ancient Pottery", abstract="Archaeology.",
          published="2026-02-12T00:00:00Z", updated="2026-02-12T00:00:00Z"),
]


@pytest.fixture
def emu():
    with ArxivEmulator(PAPERS, recorded_dir=None) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def big():
    """30,500 tiny papers, one a minute: more than the API serves of one query."""
    papers = [
        paper(n, published=f"2026-01-{1 + n // 1440:02d}T{n // 60 % 24:02d}:{n % 60:02d}:00Z")
        for n in range(MAX_RESULTS_PER_QUERY + 500)
    ]
    with ArxivEmulator(papers, recorded_dir=None) as emulator:
        yield emulator


def get(emu: ArxivEmulator, **params) -> requests.Response:
    return requests.get(emu.url, params=params, timeout=5)


def ids(emu: ArxivEmulator, query: str, **params) -> list[str]:
    response = get(emu, search_query=query, max_results=100, **params)
    assert response.status_code == 200, response.text
    return [p["id"] for p in load_atom(response.content)]


def numbers(content: bytes) -> tuple[int, int, int]:
    """(totalResults, itemsPerPage, startIndex) of a feed."""
    feed = etree.fromstring(content)
    return tuple(int(feed.findtext(OPENSEARCH + name)) for name in ("totalResults", "itemsPerPage", "startIndex"))


def error_summary(response: requests.Response) -> str:
    assert response.status_code == 400
    return etree.fromstring(response.content).findtext(f"{ATOM}entry/{ATOM}summary")


def client(emu: ArxivEmulator, page_size: int) -> arxiv.Client:
    c = arxiv.Client(page_size=page_size, delay_seconds=0, num_retries=0)
    c.query_url_format = emu.url + "?{}"
    return c


def mask_times(body: str) -> str:
    """A feed without what differs between two servings: <updated> times and the query hash."""
    body = re.sub(r"<updated>[^<]*</updated>", "<updated/>", body)
    return re.sub(r"<id>https://arxiv\.org/api/[\w+/]+</id>", "<id/>", body)


# --- recordings and format -----------------------------------------------------------------


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.stem)
def test_recorded_responses_are_served_verbatim(path):
    recording = json.loads(path.read_text(encoding="utf-8"))
    with ArxivEmulator() as emu:
        response = requests.get(f"{emu.url}?{urlsplit(recording['url']).query}", timeout=5)
    assert response.status_code == recording["status_code"]
    assert response.content == recording["body"].encode("utf-8")
    assert response.headers["Content-Type"].startswith("application/atom+xml")


@needs_shared("arxiv-recorded")
def test_recorded_search_pages_through_the_arxiv_client():
    pages = ["q_testing_s0_m10_bc5a6c384fe9", "q_testing_s10_m10_34e56e15aaac", "q_testing_s20_m10_348a237fecab"]
    expected = [
        p["id"] for name in pages
        for p in load_atom(json.loads((RECORDED_DIR / f"{name}.json").read_text())["body"].encode())
    ]
    with ArxivEmulator() as emu:
        results = list(client(emu, 10).results(arxiv.Search(query="testing", max_results=30)))
        assert [r.get_short_id().rsplit("v", 1)[0] for r in results] == expected
        assert [(r.params["start"], r.status) for r in emu.requests] == [("0", 200), ("10", 200), ("20", 200)]


@pytest.mark.parametrize(
    "path", [p for p in RECORDINGS if p.name.startswith("id_")], ids=lambda p: p.stem
)
def test_generated_feeds_match_the_recorded_format_byte_for_byte(path):
    recording = json.loads(path.read_text(encoding="utf-8"))
    body = recording["body"].encode("utf-8")
    with ArxivEmulator(load_atom(body), recorded_dir=None) as emu:
        response = requests.get(f"{emu.url}?{urlsplit(recording['url']).query}", timeout=5)
    assert response.status_code == recording["status_code"]
    assert mask_times(response.text) == mask_times(recording["body"])


@needs_shared("arxiv-recorded")
def test_generated_entries_match_a_recorded_search_page():
    """Affiliations, comments, journal refs, DOIs (and their links) and odd text, all as arXiv writes them."""
    body = json.loads((RECORDED_DIR / "q_testing_s0_m100_cfe7536492ca.json").read_text())["body"]
    papers = load_atom(body.encode())
    assert any("affiliations" in p for p in papers) and any("doi" in p for p in papers)
    with ArxivEmulator(papers, recorded_dir=None) as emu:
        response = get(emu, id_list=",".join(p["id"] for p in papers), max_results=100)
    entries = response.text[response.text.index("<entry>"):]
    assert entries == body[body.index("<entry>"):]


@needs_shared("arxiv-recorded")
def test_malformed_id_gets_the_recorded_error_feed(emu):
    recorded = json.loads((RECORDED_DIR / "id_abc_s0_m100_b79c8dcf6bc3.json").read_text())["body"]
    response = get(emu, id_list="abc")
    assert error_summary(response) == "incorrect id format for abc"
    assert mask_times(response.text) == mask_times(recorded)
    assert error_summary(get(emu, id_list="2602.00001,2602.1")) == "incorrect id format for 2602.1"


def test_id_list_lookups(emu):
    assert ids(emu, "", id_list="2602.00003,2602.00001v1,0000.0000,astro-ph/0601001") == ["2602.00003", "2602.00001"]
    assert ids(emu, "cat:cs.CV", id_list="2602.00003,2602.00001") == ["2602.00001"]
    assert numbers(get(emu).content) == (0, 10, 0)  # neither a query nor ids: nothing


@needs_shared("corpora", "3d-reconstruction-real.jsonl")
def test_papers_round_trip_through_atom():
    corpus = load_jsonl(CORPUS_3D)[:50]
    extra = paper(9, comment="With comment", journal_ref="Nature 1 (2026)", doi="10.1/2",
                  authors=["A One", "B Two"], affiliations=[["Lab A", "Lab B"], []])
    papers = corpus + [extra]
    assert load_atom(atom_feed(papers, total=len(papers), start=0)) == papers


def test_markup_and_control_characters_are_escaped_or_dropped(emu):
    nasty = paper(7, title='A <script>alert("x")</script> & B\x00\x07\x1b \ud800 end',
                  authors=["O'Brien & <Co>"], abstract="x < y && y > z ]]>", comment="\x0c<b>bold</b>")
    emu.add([nasty])
    response = get(emu, id_list="2602.00007")
    assert b"<script>" not in response.content
    (served,) = load_atom(response.content)
    assert served["title"] == 'A <script>alert("x")</script> & B  end'
    assert (served["authors"], served["abstract"], served["comment"]) == (
        ["O'Brien & <Co>"], "x < y && y > z ]]>", "<b>bold</b>")
    (result,) = client(emu, 10).results(arxiv.Search(id_list=["2602.00007"]))
    assert result.title == 'A <script>alert("x")</script> & B end'  # the client folds whitespace


def test_added_papers_replace_same_id(emu):
    emu.add([paper(1, version=3, title="Renamed"), paper(8)])
    served = {p["id"]: p for p in load_atom(get(emu, id_list="2602.00001,2602.00008").content)}
    assert (served["2602.00001"]["version"], served["2602.00001"]["title"]) == (3, "Renamed")
    assert "2602.00008" in served


# --- query language ------------------------------------------------------------------------


@pytest.mark.parametrize("query, expected", [
    ('ti:"3D reconstruction"', {1}),
    ('ti:"3d   RECONSTRUCTION"', {1}),
    ('abs:"3D reconstruction"', {2}),
    ('"3D reconstruction"', {1, 2}),
    ("reconstruction", {1, 2, 4}),
    ("ti:reconstruction", {1, 4}),
    ("abs:net", {3}),
    ("abs:network", set()),
    ("cat:cs.cv", {1, 4}),
    ("cat:cs", set()),
    ("au:ada", {1, 3}),
    ('au:"Ada Lovelace"', {1}),
    ('au:"Lovelace Alan"', set()),
    ("co:pages", {1}),
    ('jr:"J. Vis"', {1}),
    ("id:2602.00002", {2}),
    ("id:2602.00002v1", {2}),
    ("submittedDate:[202602010000 TO 202602112359]", {1, 2, 3}),
    ("submittedDate:[20260205 TO 20260211]", {2, 3}),
    ("submittedDate:[20260205133000 TO 20260205133000]", {2}),
    ("submittedDate:[202602051331 TO 202612312359]", {3, 4}),
    ("lastUpdatedDate:[20260215 TO 20260228]", {1}),
    ("cat:cs.CV OR cat:cs.RO", {1, 2, 4}),
    ("cat:cs.CV AND ti:fast", {1}),
    ("cat:cs.CV ANDNOT ti:fast", {4}),
    ("cat:cs.CV ANDNOT ti:fast ANDNOT ti:pottery", set()),
    ("cat:cs.RO OR cat:cs.CL AND au:kay", {2, 3}),  # AND binds tighter than OR
    ("cat:cs.CV ANDNOT ti:fast OR cat:cs.RO", {2, 4}),
    ("(cat:cs.RO OR cat:cs.CL) AND au:smith", {3}),
    ("((cat:cs.RO) OR (cat:cs.CL AND (au:kay)))", {2, 3}),
    (PROJECT_QUERY, {1, 2}),
])
def test_query_semantics(emu, query, expected):
    assert set(ids(emu, query)) == {f"2602.{n:05d}" for n in expected}


@pytest.mark.parametrize("query, reason", [
    ("ti:(", "expected a value after ti:, found '(' at position 3"),
    ('ti:"open', "cannot read '\"open' at position 3"),
    ("cat:cs.CV AND", "expected a term, found the end"),
    ("cat:cs.CV cat:cs.RO", "expected AND, OR or ANDNOT, found 'cat' at position 10"),
    ("(cat:cs.CV", "expected ')', found the end"),
    ("AND ti:x", "expected a term, found 'AND' at position 0"),
    ("foo:bar", "unknown field 'foo'"),
    ("submittedDate:[2026 TO 2027]", "submittedDate needs [YYYYMMDDHHMM TO YYYYMMDDHHMM]"),
    ("submittedDate:20260201", "submittedDate needs"),
    ("ti:[a TO b]", "expected a value after ti:"),
    ('abs:"--"', "has no letters or digits"),
])
def test_malformed_queries_get_400_saying_why(emu, query, reason):
    assert reason in error_summary(get(emu, search_query=query))


@pytest.mark.parametrize("params, reason", [
    ({"start": "x"}, "start must be an integer"),
    ({"max_results": "-1"}, "max_results must be non-negative"),
    ({"sortBy": "date"}, "sortBy must be"),
    ({"sortOrder": "up"}, "sortOrder must be"),
])
def test_malformed_parameters_get_400(emu, params, reason):
    assert reason in error_summary(get(emu, search_query="cat:cs.CV", **params))


def test_the_project_clients_request_end_to_end(emu):
    url = emu.url + (
        "?search_query=%28ti%3A%223D+reconstruction%22+OR+abs%3A%223D+reconstruction%22%29+AND+%28cat%3Acs.CV"
        "+OR+cat%3Acs.RO%29+AND+submittedDate%3A%5B202602010000+TO+202602112359%5D"
        "&id_list=&sortBy=submittedDate&sortOrder=descending&start=0&max_results=2000"
    )
    response = requests.get(url, timeout=5)
    assert [p["id"] for p in load_atom(response.content)] == ["2602.00002", "2602.00001"]
    assert numbers(response.content) == (2, 2000, 0)
    search = arxiv.Search(query=PROJECT_QUERY, sort_by=arxiv.SortCriterion.SubmittedDate,
                          sort_order=arxiv.SortOrder.Descending)
    results = list(client(emu, 2000).results(search))
    assert [r.entry_id for r in results] == ["http://arxiv.org/abs/2602.00002v1", "http://arxiv.org/abs/2602.00001v1"]
    assert results[1].journal_ref == "J. Vis. 12 (2026)" and results[1].doi == "10.1000/xyz"
    assert emu.requests[-1].params == emu.requests[0].params


@needs_shared("corpora", "3d-reconstruction-real.jsonl")
def test_realistic_topic_on_the_3d_corpus():
    corpus = load_jsonl(CORPUS_3D)
    phrase = re.compile(r"(?<![^\W_])3d[\W_]+reconstruction(?![^\W_])")
    expected = {
        p["id"] for p in corpus
        if phrase.search(p["title"].lower()) or phrase.search(p["abstract"].lower())
        if {"cs.CV", "cs.RO"} & set(p["categories"]) and "2024-01-01" <= p["published"] < "2026-01-01"
    }
    query = ('(ti:"3D reconstruction" OR abs:"3D reconstruction") AND (cat:cs.CV OR cat:cs.RO)'
             " AND submittedDate:[202401010000 TO 202512312359]")
    search = arxiv.Search(query=query, max_results=None, sort_by=arxiv.SortCriterion.SubmittedDate)
    with ArxivEmulator(corpus, recorded_dir=None) as emu:
        results = list(client(emu, 2000).results(search))
    served = [r.get_short_id().rsplit("v", 1)[0] for r in results]
    assert 100 < len(expected) < len(corpus) / 2
    assert len(served) == len(expected) and set(served) == expected
    published = [r.published for r in results]
    assert published == sorted(published, reverse=True)


# --- paging, sorting, the cap --------------------------------------------------------------


def test_paging_with_the_arxiv_client_yields_every_paper_once():
    papers = [paper(n, published=f"2026-02-{1 + n % 20:02d}T00:00:00Z") for n in range(50)]
    with ArxivEmulator(papers, recorded_dir=None) as emu:
        search = arxiv.Search(query="cat:cs.CV", sort_by=arxiv.SortCriterion.SubmittedDate)
        results = [r.get_short_id() for r in client(emu, 7).results(search)]
        assert sorted(results) == sorted(f"{p['id']}v1" for p in papers)
        assert [int(r.params["start"]) for r in emu.requests] == list(range(0, 50, 7))
        assert [r.entries for r in emu.requests] == [7] * 7 + [1]
        assert numbers(get(emu, search_query="cat:cs.CV", start=50).content) == (50, 10, 50)


def test_sort_orders_and_deterministic_ties():
    papers = [
        paper(5, published="2026-02-02T00:00:00Z", updated="2026-02-09T00:00:00Z"),
        paper(3, published="2026-02-03T00:00:00Z", updated="2026-02-03T00:00:00Z"),
        paper(9, published="2026-02-02T00:00:00Z", updated="2026-02-02T00:00:00Z"),
        paper(1, published="2026-02-01T00:00:00Z", updated="2026-02-05T00:00:00Z"),
    ]
    with ArxivEmulator(papers, recorded_dir=None) as emu:
        def order(sort_by, sort_order):
            return [int(i[-5:]) for i in ids(emu, "cat:cs.CV", sortBy=sort_by, sortOrder=sort_order)]

        assert order("submittedDate", "descending") == [3, 9, 5, 1]
        assert order("submittedDate", "ascending") == [1, 5, 9, 3]
        assert order("lastUpdatedDate", "descending") == [5, 1, 3, 9]
        assert order("relevance", "descending") == [5, 3, 9, 1]  # the order given
        assert order("relevance", "ascending") == [1, 9, 3, 5]
        assert order("", "") == [5, 3, 9, 1]  # defaults: relevance, descending


def test_nothing_beyond_the_30000th_result(big):
    near_end = get(big, search_query="cat:cs.CV", start=29_990, max_results=100)
    assert numbers(near_end.content) == (30_500, 100, 29_990)
    assert len(load_atom(near_end.content)) == 10
    past_end = get(big, search_query="cat:cs.CV", start=30_000, max_results=100)
    assert numbers(past_end.content) == (30_500, 100, 30_000) and load_atom(past_end.content) == []
    assert [r.entries for r in big.requests[-2:]] == [10, 0]


def test_pages_are_capped_at_2000(big):
    response = get(big, search_query="cat:cs.CV", max_results=5000)
    assert numbers(response.content) == (30_500, 2000, 0)
    assert len(load_atom(response.content)) == 2000


def test_the_arxiv_client_meets_the_cap_as_an_empty_page(big):
    search = arxiv.Search(query="cat:cs.CV", max_results=None, sort_by=arxiv.SortCriterion.SubmittedDate)
    results = client(big, 2000).results(search, offset=28_000)
    served = [r.get_short_id() for _, r in zip(range(2000), results, strict=False)]
    assert served[0] == "2602.02499v1" and len(set(served)) == 2000  # newest first: 30,499 − 28,000
    with pytest.raises(arxiv.UnexpectedEmptyPageError):
        next(results)


# --- faults --------------------------------------------------------------------------------


def test_status_fault_with_retry_after(emu):
    emu.fault("status", code=429, retry_after=7)
    refused = get(emu, search_query="cat:cs.CV")
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "7")
    assert get(emu, search_query="cat:cs.CV").status_code == 200
    assert [(r.status, r.fault) for r in emu.requests] == [(429, "status"), (200, None)]


def test_status_fault_times_through_the_arxiv_client(emu):
    emu.fault("status", code=503, times=2)
    search = arxiv.Search(query="cat:cs.CV")
    for _ in range(2):
        with pytest.raises(arxiv.HTTPError) as failure:
            list(client(emu, 10).results(search))
        assert failure.value.status == 503
    assert len(list(client(emu, 10).results(search))) == 2


def test_fault_predicate_picks_the_request():
    papers = [paper(n) for n in range(20)]
    with ArxivEmulator(papers, recorded_dir=None) as emu:
        emu.fault("status", code=500, when=lambda p: p.get("start") == "7")
        with pytest.raises(arxiv.HTTPError):
            list(client(emu, 7).results(arxiv.Search(query="cat:cs.CV")))
        assert [(r.params["start"], r.status) for r in emu.requests] == [("0", 200), ("7", 500)]
        assert len(list(client(emu, 7).results(arxiv.Search(query="cat:cs.CV")))) == 20


def test_fault_arguments_are_checked(emu):
    with pytest.raises(ValueError):
        emu.fault("slow")
    with pytest.raises(TypeError):
        emu.fault("status")
    with pytest.raises(TypeError):
        emu.fault("hang", code=500)


def test_hang_times_out_the_client_and_ends_when_stopped(emu):
    emu.fault("hang", times=2)
    with pytest.raises(requests.ReadTimeout):
        requests.get(emu.url, params={"search_query": "cat:cs.CV"}, timeout=0.2)
    outcome = []

    def patient_request():
        try:
            requests.get(emu.url, params={"search_query": "cat:cs.CV"}, timeout=30)
        except requests.RequestException as error:
            outcome.append(error)

    waiter = threading.Thread(target=patient_request)
    waiter.start()
    assert emu.wait_for_requests(2)
    began = time.monotonic()
    emu.stop()
    waiter.join(5)
    assert not waiter.is_alive() and time.monotonic() - began < 2
    assert isinstance(outcome[0], requests.ConnectionError)
    assert [(r.status, r.fault) for r in emu.requests] == [(None, "hang")] * 2


def test_empty_page_keeps_or_zeroes_the_total(emu):
    emu.fault("empty_page")
    emu.fault("empty_page", total_zero=True)
    assert numbers(get(emu, search_query="cat:cs.CV").content) == (2, 10, 0)
    assert numbers(get(emu, search_query="cat:cs.CV").content) == (0, 10, 0)
    assert [(r.status, r.fault, r.entries) for r in emu.requests] == [(200, "empty_page", 0)] * 2
    assert load_atom(get(emu, search_query="cat:cs.CV").content) != []


def test_empty_pages_through_the_arxiv_client():
    papers = [paper(n) for n in range(10)]
    with ArxivEmulator(papers, recorded_dir=None) as emu:
        emu.fault("empty_page", when=lambda p: p["start"] == "5")
        with pytest.raises(arxiv.UnexpectedEmptyPageError):
            list(client(emu, 5).results(arxiv.Search(query="cat:cs.CV")))
        emu.fault("empty_page", total_zero=True)
        assert list(client(emu, 5).results(arxiv.Search(query="cat:cs.CV"))) == []  # looks like "no results"


@needs_shared("arxiv-recorded")
def test_empty_page_on_a_recorded_query_keeps_the_recorded_total():
    with ArxivEmulator() as emu:
        emu.fault("empty_page")
        response = requests.get(emu.url, params={"search_query": "testing", "max_results": 10}, timeout=5)
    assert numbers(response.content) == (214_881, 10, 0) and load_atom(response.content) == []


def test_truncated_document(emu):
    whole = get(emu, search_query="cat:cs.CV").content
    emu.fault("truncated")
    cut = get(emu, search_query="cat:cs.CV")
    assert cut.status_code == 200 and int(cut.headers["Content-Length"]) == len(cut.content)
    assert whole.startswith(cut.content) and len(cut.content) == len(whole) // 2
    with pytest.raises(etree.XMLSyntaxError):
        load_atom(cut.content)
    assert (emu.requests[-1].fault, emu.requests[-1].entries) == ("truncated", 2)


def test_reset_connection(emu):
    emu.fault("reset", times=2)
    with pytest.raises(requests.ConnectionError):
        get(emu, search_query="cat:cs.CV")
    with pytest.raises(requests.ConnectionError):
        list(client(emu, 10).results(arxiv.Search(query="cat:cs.CV")))
    assert [(r.status, r.fault) for r in emu.requests] == [(None, "reset")] * 2
    assert get(emu, search_query="cat:cs.CV").status_code == 200


def test_stopped_emulator_and_unused_port_refuse_connections():
    with ArxivEmulator(PAPERS, recorded_dir=None) as emu:
        assert get(emu, search_query="cat:cs.CV").status_code == 200
    with pytest.raises(requests.ConnectionError):
        get(emu, search_query="cat:cs.CV")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{unused_port()}/api/query", timeout=5)


# --- log, paths, command line --------------------------------------------------------------


def test_request_log(emu):
    before = time.monotonic()
    get(emu, search_query="cat:cs.CV", start=0, max_results=1)
    get(emu, search_query="cat:cs.CV", start="x")
    missing = requests.get(emu.url.replace("/api/query", "/api/other"), timeout=5)
    after = time.monotonic()
    assert missing.status_code == 404
    first, second, third = emu.requests
    assert before <= first.time <= second.time <= third.time <= after
    assert first.params == {"search_query": "cat:cs.CV", "start": "0", "max_results": "1"}
    assert (first.path, first.status, first.fault, first.entries) == ("/api/query", 200, None, 1)
    assert (second.status, second.entries) == (400, 0)
    assert (third.path, third.status) == ("/api/other", 404)


def test_command_line_serves_until_interrupted(tmp_path):
    corpus = tmp_path / "papers.jsonl"
    corpus.write_text("".join(json.dumps(p) + "\n" for p in PAPERS), encoding="utf-8")
    atom = tmp_path / "more.atom"
    atom.write_bytes(atom_feed([paper(5)], total=1, start=0))
    server = Path(__file__).with_name("arxiv_server.py")
    process = subprocess.Popen(
        [sys.executable, str(server), "--jsonl", str(corpus), "--atom", str(atom), "--port", "0", "--no-recorded"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/query", url)
        response = requests.get(url, params={"search_query": "cat:cs.CV"}, timeout=5)
        assert numbers(response.content)[0] == 3
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(5) == 0


# --- announcements: the listing (RSS) and OAI-PMH -----------------------------------------------

ANNOUNCED = [
    paper(11, title="New in CV", announced="2026-06-02", categories=["cs.CV", "cs.GR"]),
    paper(12, title="Cross to CV", announced="2026-06-02", categories=["cs.RO", "cs.CV"], primary_category="cs.RO"),
    paper(13, title="Replaced", version=2, announced="2026-06-02", abstract="Second thoughts."),
    paper(14, title="Elsewhere", announced="2026-06-02", categories=["math.AG"], primary_category="math.AG"),
    paper(15, title="Yesterday", announced="2026-06-01"),
]


def test_the_listing_is_arxivs_rss_read_by_feedparser_with_announce_types():
    import feedparser
    with ArxivEmulator(ANNOUNCED, recorded_dir=None) as emu:
        emu.clock = datetime(2026, 6, 2, 12, 0, tzinfo=UTC)  # 08:00 in New York, Tuesday
        feed = feedparser.parse(requests.get(f"{emu.rss_url}/cs.CV+cs.GR", timeout=5).content)
    assert not feed.bozo and feed.feed.title == "cs.CV+cs.GR updates on arXiv.org"
    assert feed.feed.published_parsed[:3] == (2026, 6, 2)
    items = {e.id: e for e in feed.entries}
    assert {key: e.arxiv_announce_type for key, e in items.items()} == {
        "oai:arXiv.org:2602.00011v1": "new", "oai:arXiv.org:2602.00012v1": "cross",
        "oai:arXiv.org:2602.00013v2": "replace"}
    assert items["oai:arXiv.org:2602.00013v2"].summary == "arXiv:2602.00013v2 Announce Type: replace \nAbstract: Second thoughts."
    assert [t.term for t in items["oai:arXiv.org:2602.00012v1"].tags] == ["cs.RO", "cs.CV"]


@pytest.mark.parametrize("moment, holidays", [(datetime(2026, 6, 6, 12, tzinfo=UTC), set()),
                                              (datetime(2026, 6, 19, 12, tzinfo=UTC), {date(2026, 6, 19)})],
                         ids=["saturday", "holiday"])
def test_the_listing_is_empty_at_weekends_and_on_holidays(moment, holidays):
    import feedparser
    late = paper(16, announced=f"{moment:%Y-%m-%d}")
    with ArxivEmulator([late], recorded_dir=None) as emu:
        emu.clock, emu.holidays = moment, holidays
        feed = feedparser.parse(requests.get(f"{emu.rss_url}/cs.CV", timeout=5).content)
    assert feed.entries == [] and "published" not in feed.feed


def test_oai_pmh_lists_records_of_a_set_by_datestamp_through_resumption_tokens():
    with ArxivEmulator(ANNOUNCED, recorded_dir=None) as emu:
        emu.clock, emu.oai_page_size = datetime(2026, 6, 3, 12, tzinfo=UTC), 2
        ask = lambda **params: etree.fromstring(requests.get(emu.oai_url, params=params, timeout=5).content)  # noqa: E731
        ns = {"o": "http://www.openarchives.org/OAI/2.0/", "r": "http://arxiv.org/OAI/arXivRaw/"}
        first = ask(verb="ListRecords", metadataPrefix="arXivRaw", set="cs:cs:CV", **{"from": "2026-06-01", "until": "2026-06-02"})
        token = first.findtext("o:ListRecords/o:resumptionToken", namespaces=ns)
        second = ask(verb="ListRecords", resumptionToken=token)
        assert second.findtext("o:ListRecords/o:resumptionToken", namespaces=ns) == ""  # the list is complete
        records = [r for page in (first, second) for r in page.iterfind("o:ListRecords/o:record", ns)]
        assert [(r.findtext("o:header/o:identifier", namespaces=ns), r.findtext("o:header/o:datestamp", namespaces=ns),
                 len(r.findall("o:metadata/r:arXivRaw/r:version", ns))) for r in records] == [
            ("oai:arXiv.org:2602.00011", "2026-06-02", 1), ("oai:arXiv.org:2602.00012", "2026-06-02", 1),
            ("oai:arXiv.org:2602.00013", "2026-06-02", 2), ("oai:arXiv.org:2602.00015", "2026-06-01", 1)]
        empty = ask(verb="ListRecords", metadataPrefix="arXivRaw", set="math:math:AG", **{"from": "2026-06-03"})
        assert empty.find("o:error", ns).get("code") == "noRecordsMatch"
        assert ask(verb="ListRecords", resumptionToken="spoilt").find("o:error", ns).get("code") == "badResumptionToken"
