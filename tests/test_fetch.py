"""Fetching through the real client (topic_report.arxiv) from the loopback emulator: windows, paging,
incremental reruns, versions, the 30,000-result cap, odd metadata, and faults that must leave
the store exactly as it was."""

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from topic_report.arxiv.query import Window, build_query
from topic_report.store import Store
from topic_report.topics import load_topics, select

from arxiv_server import ArxivEmulator
from conftest import needs_shared

SEED_WINDOW = ("--since", "2026-02-01", "--until", "2026-02-11")


def fetch(cli, *extra):
    return cli("fetch", "--topic", "3D Reconstruction", *extra)


def dump(db_path) -> list:
    """Every paper and membership row, to compare a store before and after a failed fetch."""
    db = sqlite3.connect(db_path)
    try:
        return [db.execute("SELECT * FROM papers ORDER BY id").fetchall(),
                db.execute("SELECT * FROM topic_papers ORDER BY paper_id").fetchall()]
    finally:
        db.close()


def test_query_is_built_from_the_topic():
    topic = select(load_topics("topics.yml"), ["3d-reconstruction"])[0]
    window = Window(datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 2, 11, 23, 59, tzinfo=UTC))
    query = build_query(topic, window)
    assert query.startswith('(ti:"3D reconstruction" OR abs:"3D reconstruction" OR ti:"depth estimation"')
    assert "AND (cat:cs.CV OR cat:cs.GR OR cat:cs.RO" in query
    assert query.endswith("AND submittedDate:[202602010000 TO 202602112359]")


def test_first_fetch_then_incremental_rerun_costs_one_request(env, cli, emulator):
    code, out, _ = fetch(cli, *SEED_WINDOW)
    assert code == 0 and "15 fetched, 15 new, 0 updated, 1 API request" in out
    code, out, _ = fetch(cli)  # the first run without dates covers the topic's window and what it holds
    assert code == 0 and out.startswith("3D Reconstruction: 15 fetched, 0 new, 0 updated, 1 API request; ")
    searches = [r for r in emulator.requests if r.path == "/api/query"]
    assert "submittedDate:[20260208" in searches[-1].params["search_query"]  # the oldest stored
    before = len(searches)
    code, out, _ = fetch(cli)  # then only what changed: one request (and the audit's listing)
    searches = [r for r in emulator.requests if r.path == "/api/query"]
    assert code == 0 and len(searches) - before == 1
    assert "0 new, 0 updated, 1 API request" in out
    assert searches[-1].params["sortBy"] == "lastUpdatedDate"


def test_window_limits_what_is_fetched(env, cli):
    code, out, _ = fetch(cli, "--since", "2026-02-09", "--until", "2026-02-09")
    assert code == 0
    assert out.startswith("3D Reconstruction: 5 fetched, 5 new")  # the seed has five papers of 2026-02-09


def test_small_pages_are_all_fetched_once(env, cli, emulator, monkeypatch):
    monkeypatch.setenv("ARXIV_PAGE_SIZE", "4")
    code, out, _ = fetch(cli, *SEED_WINDOW)
    assert code == 0 and "15 fetched, 15 new, 0 updated, 4 API requests" in out
    assert [r.params["start"] for r in emulator.requests] == ["0", "4", "8", "12"]
    assert all(r.params["max_results"] == "4" for r in emulator.requests)


def test_default_page_size_is_the_api_maximum(env, cli, emulator):
    fetch(cli, *SEED_WINDOW)
    assert emulator.requests[0].params["max_results"] == "2000"
    assert emulator.requests[0].params["sortBy"] == "submittedDate"
    assert emulator.requests[0].params["sortOrder"] == "descending"


def test_a_new_version_replaces_the_old_one(env, cli, emulator, sample_records):
    fetch(cli, *SEED_WINDOW)
    revised = dict(sample_records[0], version=2, title="VersaViT, revised", authors=["New Author"],
                   updated="2026-03-01T10:00:00Z")
    emulator.add([revised])
    code, out, _ = fetch(cli, *SEED_WINDOW)
    assert "15 fetched, 0 new, 1 updated" in out
    code, digest, _ = cli("digest", "--topic", "3D Reconstruction")
    assert "**VersaViT, revised**  \n  New Author  \n" in digest
    assert f"https://arxiv.org/abs/{revised['id']}v2" in digest
    assert digest.count(revised["id"]) == 1


def test_requests_are_spaced_by_the_delay(env, cli, emulator, monkeypatch):
    monkeypatch.setenv("ARXIV_PAGE_SIZE", "5")
    monkeypatch.setenv("ARXIV_DELAY_SECONDS", "0.3")
    fetch(cli, *SEED_WINDOW)
    times = [r.time for r in emulator.requests]
    assert len(times) == 3
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.29


def big_corpus(n: int, start: datetime) -> list[dict]:
    """n tiny papers, one a minute, all about point clouds."""
    return [
        {"id": f"2601.{i:05d}", "version": 1, "title": f"Point clouds {i}", "abstract": "3D reconstruction.",
         "authors": ["A. Author"], "published": (start + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
         "updated": (start + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
         "categories": ["cs.CV"], "primary_category": "cs.CV"}
        for i in range(n)
    ]


def test_a_window_over_the_30000_cap_is_split_into_slices(env, cli, monkeypatch):
    papers = big_corpus(30_500, datetime(2026, 1, 1, tzinfo=UTC))
    with ArxivEmulator(papers=papers) as big:
        for name, value in big.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("ARXIV_TIMEOUT_SECONDS", "60")  # a 2,000-entry page of 30,500 papers takes seconds
        code, out, err = cli("fetch", "--topic", "Big", "--since", "2026-01-01", "--until", "2026-01-31",
                             "--config", str(write_topics(env, max_results=40_000)))
        assert code == 0, err
        assert out.startswith("Big: 30500 fetched, 30500 new")
        assert max(int(r.params["start"]) + int(r.params["max_results"]) for r in big.requests) <= 30_000


def write_topics(tmp_path, **extra):
    path = tmp_path / "topics.yml"
    lines = ["topics:", "  - name: Big", "    slug: big", "    terms: [point clouds]", "    categories: [cs.CV]"]
    lines += [f"    {key}: {value}" for key, value in extra.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_cap_on_results_is_honoured(env, cli, emulator):
    code, out, _ = cli("fetch", "--topic", "Big", "--config", str(write_topics(env, max_results=5)),
                       *SEED_WINDOW)
    assert code == 0 and out.startswith("Big: 5 fetched, 5 new")


def test_odd_metadata_is_kept_faithfully(env, cli, emulator, sample_records):
    many = [f"Author {i} Ωmega" for i in range(500)]
    emulator.add([dict(sample_records[0], title=r"$\alpha$-NeRF: <script>alert(1)</script> & Zoë 🚀",
                               authors=many, abstract="Line one\n   line two with $k < 4$ and עברית")])
    code, out, _ = fetch(cli, *SEED_WINDOW)
    assert code == 0
    code, digest, _ = cli("digest", "--topic", "3D Reconstruction")
    assert r"$\alpha$-NeRF: &lt;script>alert(1)&lt;/script> & Zoë 🚀" in digest
    assert ", Author 9 Ωmega, et al.  \n" in digest
    assert "Line one line two with $k < 4$ and עברית" in digest
    with Store(env / "papers.sqlite") as store:
        stored = store.papers("3d-reconstruction")[0]
    assert stored.authors == many


# --- faults: transient ones are ridden out, persistent ones leave the store as it was --------

def seeded(cli):
    code, _, _ = fetch(cli, *SEED_WINDOW)
    assert code == 0


@pytest.mark.parametrize("kind, options", [
    ("status", {"code": 503}),
    ("status", {"code": 500}),
    ("status", {"code": 429, "retry_after": 0.2}),
    ("truncated", {}),
    ("reset", {}),
    ("empty_page", {"total_zero": True}),
])
def test_transient_faults_are_retried(env, cli, emulator, kind, options):
    seeded(cli)
    emulator.fault(kind, times=2, **options)
    code, out, err = fetch(cli, *SEED_WINDOW)
    assert code == 0, err
    assert "15 fetched, 0 new, 0 updated, 3 API requests" in out


def test_retry_after_is_honoured(env, cli, emulator):
    emulator.fault("status", times=1, code=429, retry_after=0.5)
    code, _, err = fetch(cli, *SEED_WINDOW)
    assert code == 0, err
    first, second = emulator.requests[0].time, emulator.requests[1].time
    assert second - first >= 0.49


@pytest.mark.parametrize("kind, options, message", [
    ("status", {"code": 503}, "arXiv answered HTTP 503 (after 5 attempts)"),
    ("truncated", {}, "arXiv sent a truncated Atom document (after 5 attempts)"),
    ("hang", {}, "arXiv did not answer within 0.3 s (after 5 attempts)"),
])
def test_persistent_faults_fail_clearly_and_change_nothing(env, cli, emulator, monkeypatch, kind, options, message):
    seeded(cli)
    before = dump(env / "papers.sqlite")
    monkeypatch.setenv("ARXIV_TIMEOUT_SECONDS", "0.3")
    emulator.fault(kind, times=100, **options)
    code, out, err = fetch(cli, *SEED_WINDOW)
    assert code == 1 and out == ""
    assert err == f"topic-report: error: 3D Reconstruction: {message}\n"
    assert dump(env / "papers.sqlite") == before


def test_a_fault_in_a_middle_page_loses_nothing(env, cli, emulator, monkeypatch):
    monkeypatch.setenv("ARXIV_PAGE_SIZE", "5")
    emulator.fault("empty_page", times=1, when=lambda p: p["start"] == "5")
    code, out, err = fetch(cli, *SEED_WINDOW)
    assert code == 0, err
    assert "15 fetched, 15 new, 0 updated, 4 API requests" in out


def test_an_empty_first_page_is_believed_when_nothing_is_known(env, cli, emulator):
    emulator.fault("empty_page", times=1, total_zero=True)
    code, out, err = fetch(cli, *SEED_WINDOW)
    assert out == ("3D Reconstruction: 0 fetched, 0 new, 0 updated, 1 API request; "
                   "arXiv reports 0 from 2026-02-01 to 2026-02-11\n")
    assert code == 1 and err == ("topic-report: 3D Reconstruction: no paper matches this topic from "
                                 "2026-02-01 to 2026-02-11; check its terms and categories\n")


def test_a_quiet_window_of_a_known_topic_is_no_error(env, cli, emulator):
    fetch(cli, *SEED_WINDOW)
    code, out, _ = fetch(cli, "--since", "2026-01-01", "--until", "2026-01-31")
    assert code == 0 and out.startswith("3D Reconstruction: 0 fetched, 0 new")


def test_connection_refused_fails_clearly_once_for_all_topics(env, cli, monkeypatch):
    from arxiv_server import unused_port
    url = f"http://127.0.0.1:{unused_port()}/api/query"
    monkeypatch.setenv("ARXIV_API_URL", url)
    monkeypatch.setenv("ARXIV_RETRIES", "1")
    code, out, err = cli("fetch", *SEED_WINDOW)  # every topic: the first one's failure says it for all
    assert code == 1 and out == ""
    assert err == f"topic-report: arXiv is unreachable (cannot connect to {url}, after 2 attempts)\n"


def test_an_error_feed_is_explained(env, cli, emulator):
    emulator.fault("status", times=1, code=400)
    code, _, err = fetch(cli, *SEED_WINDOW)
    assert code == 1 and "arXiv answered HTTP 400" in err and len(emulator.requests) == 1


def test_failed_runs_are_logged(env, cli, emulator, monkeypatch):
    emulator.fault("status", times=100, code=503)
    monkeypatch.setenv("ARXIV_RETRIES", "0")
    fetch(cli, *SEED_WINDOW)
    with Store(env / "papers.sqlite") as store:
        (run,) = store.fetch_runs("3d-reconstruction")
    assert (run["outcome"], run["requests"]) == ("error", 1) and "HTTP 503" in run["error"]


@needs_shared("arxiv-recorded")
def test_recorded_api_responses_keep_every_field():
    """The API's present format, as recorded: old-style ids, affiliations, comment, journal ref."""
    import json

    from topic_report.arxiv.feed import parse_feed

    from arxiv_server import RECORDED_DIR

    body = json.loads((RECORDED_DIR / "id_astro-ph_0601001_s0_m100_3150dca9dc76.json").read_text())["body"]
    (paper,) = parse_feed(body.encode())
    assert (paper.id, paper.version, paper.primary_category) == ("astro-ph/0601001", 1, "astro-ph")
    assert paper.authors[0] == "Andrew Gould" and paper.affiliations[0] == ["Ohio State"]
    assert paper.journal_ref == "ActaAstron.56:1-50,2006"
    assert paper.comment.startswith("62 pages including 16 figures")
    assert paper.abstract.startswith("We derive the frequencies") and "V_max<17.5" in paper.abstract
    assert [link["title"] for link in paper.links] == [None, "pdf"]

    page = json.loads((RECORDED_DIR / "q_testing_s0_m100_cfe7536492ca.json").read_text())["body"]
    papers = parse_feed(page.encode())
    assert len(papers) == 100 and len({p.id for p in papers}) == 100
    assert any(p.doi for p in papers) and any(any(a) for p in papers for a in p.affiliations)


def test_a_recorded_error_response_is_explained(env, cli, emulator, monkeypatch):
    """The recorded 400 of an id_list look-up for `abc`, served verbatim, read by our client."""
    import arxiv

    from topic_report.arxiv.paging import ArxivSource
    from topic_report.settings import from_env

    source = ArxivSource(from_env(), progress=False)
    with pytest.raises(Exception) as error:
        source._page(arxiv.Search(id_list=["abc"], max_results=100), 0, expect_results=False, size=100)
    assert str(error.value) == "arXiv answered HTTP 400: incorrect id format for abc (after 1 attempt)"


def test_the_terms_each_paper_matched_are_stored_and_in_the_frame(env, cli, sample_records):
    from topic_report.frame import COLUMNS, load_frame

    fetch(cli, *SEED_WINDOW)
    topic = select(load_topics("topics.yml"), ["3d-reconstruction"])[0]
    with Store(env / "papers.sqlite") as store:
        frame = load_frame(store, "3d-reconstruction")
    assert COLUMNS[-1] == "matched_terms" and len(frame) == 15
    for record in sample_records:
        row = frame[frame["id"] == record["id"]].iloc[0]
        assert row["matched_terms"] == topic.matched_terms(record["title"], record["abstract"])
    assert frame["matched_terms"].map(len).sum() > 0

