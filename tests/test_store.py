"""The SQLite store: newest version wins, membership, run log, bad files, two writers at once."""

import multiprocessing
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml

from topic_report import TopicReportError
from topic_report.store import SCHEMA_VERSION, FetchRecord, Paper, RequestRecord, Revision, Store, TopicState

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)


def paper(n: int, version: int = 1, title: str | None = None, day: int = 10) -> Paper:
    return Paper(
        id=f"2602.{n:05d}", version=version, title=title or f"Paper {n}", abstract=f"Abstract {n}.",
        authors=[f"Author {n}", "Zoë Ångström"], affiliations=[["Lab"], []],
        published=T0.replace(day=day), updated=T0.replace(day=day),
        primary_category="cs.CV", categories=["cs.CV", "cs.GR"], comment="10 pages", journal_ref=None,
        doi="10.1000/x", links=[{"href": "https://arxiv.org/abs/x", "rel": "alternate", "title": None, "type": "text/html"}],
    )


def save(store, topic, papers):
    return store.save_fetch(topic, papers, started_at=T0, requests=1, record=FetchRecord(kind="dates"))


def test_round_trip_keeps_every_field(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        original = paper(1)
        save(store, "t", [original])
        assert store.papers("t") == [original]


def test_newer_version_replaces_older_and_older_never_wins(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        assert save(store, "t", [paper(1)]).new == 1
        counts = save(store, "t", [paper(1, version=2, title="Renamed")])
        assert (counts.new, counts.updated) == (0, 1)
        save(store, "t", [paper(1, version=1)])
        (stored,) = store.papers("t")
        assert (stored.version, stored.title) == (2, "Renamed")


def test_duplicate_versions_within_one_fetch_keep_the_newest(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        counts = save(store, "t", [paper(1, 1), paper(1, 3, "Third"), paper(1, 2)])
        assert counts.new == 1
        assert [(p.version, p.title) for p in store.papers("t")] == [(3, "Third")]


def test_membership_is_per_topic_and_papers_are_shared(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        save(store, "a", [paper(1), paper(2)])
        save(store, "b", [paper(2)])
        assert [p.id for p in store.papers("a")] == ["2602.00002", "2602.00001"]
        assert [p.id for p in store.papers("b")] == ["2602.00002"]


def test_order_and_date_filter(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        save(store, "t", [paper(1, day=9), paper(3, day=10), paper(2, day=10)])
        assert [p.id[-1] for p in store.papers("t")] == ["3", "2", "1"]
        assert [p.id[-1] for p in store.papers("t", since=T0.date())] == ["3", "2"]
        assert [p.id[-1] for p in store.papers("t", until=T0.replace(day=9).date())] == ["1"]


def test_fetch_runs_are_logged_and_failures_leave_papers_alone(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        save(store, "t", [paper(1)])
        store.log_failure("t", since=T0, until=T0, started_at=T0, requests=3, error="HTTP 503")
        assert [(r["outcome"], r["requests"], r["error"]) for r in store.fetch_runs("t")] == [
            ("ok", 1, None), ("error", 3, "HTTP 503")]
        assert len(store.papers("t")) == 1


def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_text("my precious notes\n")
    with pytest.raises(TopicReportError, match="is not usable: file is not a database"):
        Store(path)
    assert path.read_text() == "my precious notes\n"


def _writer(path: str, first: int, count: int) -> None:
    with Store(path) as store:
        for n in range(first, first + count):
            save(store, "t", [paper(n % 150)])  # overlapping ids: both processes write the same papers


def test_two_processes_writing_at_once_lose_and_duplicate_nothing(tmp_path):
    path = str(tmp_path / "s.sqlite")
    Store(path).close()
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(path, start, 200)) for start in (0, 100)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0]
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT count(*) FROM papers").fetchone()[0] == 150
    assert db.execute("SELECT count(*) FROM topic_papers").fetchone()[0] == 150
    assert db.execute("SELECT count(*) FROM fetch_runs").fetchone()[0] == 400


# --- the schema version: older stores are upgraded in place, newer and foreign ones refused -----

V1_STORE = Path(__file__).parent / "data" / "store-v1.sqlite"  # made by the first, unversioned schema


def rows(path, table, columns="*"):
    """A table's rows, sorted."""
    db = sqlite3.connect(path)
    try:
        return sorted(db.execute(f"SELECT {columns} FROM {table}").fetchall())
    finally:
        db.close()


def test_a_store_of_the_first_schema_is_upgraded_in_place_keeping_every_row(tmp_path, env, cli):
    path = env / "papers.sqlite"
    shutil.copy(V1_STORE, path)
    v1_runs = "id, topic, since, until, started_at, finished_at, fetched, new, updated, requests, outcome, error"
    before = [rows(path, "papers"), rows(path, "topic_papers"), rows(path, "fetch_runs", v1_runs)]
    assert rows(path, "pragma_user_version") == [(0,)] and len(before[0]) == 15
    code, digest, err = cli("digest", "--topic", "3d-reconstruction")
    assert code == 0, err
    assert "Total papers shown: **15**" in digest and "VersaViT, revised" in digest
    assert rows(path, "pragma_user_version") == [(SCHEMA_VERSION,)]
    assert [rows(path, "papers"), rows(path, "topic_papers", "topic, paper_id, added_at"),
            rows(path, "fetch_runs", v1_runs)] == before
    with Store(path) as store:  # opening again changes nothing
        assert store.count("3d-reconstruction") == 15
        assert [r["outcome"] for r in store.fetch_runs("3d-reconstruction")] == ["ok", "ok", "error"]
        # Its last good fetch still counts as one: the page must not call the topic a sample.
        last_ok = max(r["finished_at"] for r in store.fetch_runs("3d-reconstruction") if r["outcome"] == "ok")
        assert store.coverage("3d-reconstruction").last_fetched == datetime.fromisoformat(last_ok)
    assert [rows(path, "papers"), rows(path, "topic_papers", "topic, paper_id, added_at")] == before[:2]


def topics_file(folder: Path, slug: str) -> Path:
    """The project's 3D Reconstruction topic (the v1 store's), under `slug`."""
    topic = yaml.safe_load((ROOT / "topics.yml").read_text(encoding="utf-8"))["topics"][0]
    path = folder / f"topics-{slug}.yml"
    path.write_text(yaml.safe_dump({"topics": [{**topic, "slug": slug}]}), encoding="utf-8")
    return path


@pytest.mark.parametrize("fetched_first", [False, True], ids=["renamed-before-its-first-fetch", "renamed-after"])
def test_an_upgraded_v1_store_follows_a_renamed_slug(tmp_path, env, cli, fetched_first):
    """A store of schema 1 recorded no topic's name or definition: a slug renamed before the
    upgraded store's first fetch is recognised by its papers, one renamed after by its name."""
    path = env / "papers.sqlite"
    shutil.copy(V1_STORE, path)
    v1_runs = rows(path, "fetch_runs", "id, topic, started_at, outcome")
    if fetched_first:
        assert cli("fetch", "--config", str(topics_file(tmp_path, "3d-reconstruction")))[0] == 0
    before = datetime.now(UTC)
    code, out, err = cli("fetch", "--config", str(topics_file(tmp_path, "3d-recon")))
    assert code == 0, err
    assert "slug renamed from '3d-reconstruction'" in out and "its papers and history kept" in out
    with Store(path) as store:
        assert store.count("3d-recon") == 15 and store.topic_slugs() == {"3d-recon"}
        assert store.joined_since("3d-recon", before) == set()  # nothing NEW
        runs = store.fetch_runs("3d-recon")
        assert [(r["id"], r["topic"], r["started_at"], r["outcome"]) for r in runs[:3]] == \
            [(run_id, "3d-recon", started, outcome) for run_id, _, started, outcome in v1_runs]
        assert len(runs) == 3 + 1 + fetched_first  # every run of the v1 store's log, and those since


V2_STORE = Path(__file__).parent / "data" / "store-v2.sqlite"  # schema 2 (made by main's store.py of 2026-12)
V2_TABLES = {"papers": "*", "topic_papers": "*", "fetch_runs": "*", "fetch_requests": "*", "topic_state": "*"}


def test_a_store_of_schema_2_is_upgraded_in_place_keeping_every_row_and_audits_after(tmp_path):
    path = tmp_path / "papers.sqlite"
    shutil.copy(V2_STORE, path)
    before = {table: rows(path, table) for table in V2_TABLES}
    assert rows(path, "pragma_user_version") == [(2,)] and len(before["fetch_requests"]) == 1
    with Store(path) as store:
        assert store.topic_state("3d-reconstruction").definition == "abc123"
        assert store.audited_days("cs.CV") == {} and store.departures("3d-reconstruction") == {}
    assert rows(path, "pragma_user_version") == [(SCHEMA_VERSION,)]
    assert {table: rows(path, table) for table in V2_TABLES} == before


def test_a_store_of_a_newer_schema_is_refused_untouched(tmp_path):
    path = tmp_path / "s.sqlite"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    data = path.read_bytes()
    with pytest.raises(TopicReportError) as error:
        Store(path)
    assert str(error.value) == (f"store {path} has schema version {SCHEMA_VERSION + 1}, newer than this "
                                f"topic-report's {SCHEMA_VERSION}: upgrade topic-report to use it")
    assert path.read_bytes() == data


def test_a_foreign_sqlite_file_is_refused_untouched(tmp_path, env, cli):
    path = env / "papers.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE papers (id TEXT, title TEXT)")
    db.execute("CREATE TABLE notes (body TEXT)")
    db.execute("INSERT INTO notes VALUES ('mine')")
    db.commit()
    db.close()
    data = path.read_bytes()
    code, out, err = cli("digest", "--topic", "3d-reconstruction")
    assert code == 1 and out == ""
    assert err == (f"topic-report: error: store {path} is not a topic-report store "
                   "(it holds tables notes, papers); name another file\n")
    assert path.read_bytes() == data


def test_an_empty_sqlite_file_becomes_a_store(tmp_path):
    path = tmp_path / "s.sqlite"
    sqlite3.connect(path).close()
    with Store(path) as store:
        assert store.count("t") == 0
    assert rows(path, "pragma_user_version") == [(SCHEMA_VERSION,)]


def test_two_processes_upgrading_one_old_store_at_once_both_succeed(tmp_path):
    path = tmp_path / "papers.sqlite"
    shutil.copy(V1_STORE, path)
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(str(path), start, 20)) for start in (0, 10)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0]
    assert rows(path, "pragma_user_version") == [(SCHEMA_VERSION,)]
    assert len(rows(path, "topic_papers")) == 15 + 30


# --- matched terms, membership after a definition change, slugs, coverage ---------------------

def test_matched_terms_are_kept_per_topic_and_paper(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        store.save_fetch("a", [paper(1), paper(2)], started_at=T0, requests=1, record=FetchRecord(
            kind="update", matched_terms={"2602.00001": ["NeRF"], "2602.00002": []}))
        store.save_fetch("b", [paper(1)], started_at=T0, requests=1,
                         record=FetchRecord(kind="update", matched_terms={"2602.00001": ["point cloud"]}))
        assert store.matched_terms("a") == {"2602.00001": ["NeRF"], "2602.00002": []}
        assert store.matched_terms("b") == {"2602.00001": ["point cloud"]}
        save(store, "a", [paper(1, version=2)])  # not told: what was known stays
        assert store.matched_terms("a")["2602.00001"] == ["NeRF"]


def test_members_from_leaves_exactly_the_fetched_papers_in_the_topic_and_all_in_the_store(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        save(store, "t", [paper(1, day=5), paper(2, day=9), paper(3, day=10)])
        save(store, "u", [paper(2, day=9)])
        counts = store.save_fetch("t", [paper(3, day=10)], started_at=T0, requests=1, record=FetchRecord(
            kind="window", members_from=T0.replace(day=8)))
        assert (counts.new, counts.removed) == (0, 1)
        assert [p.id for p in store.papers("t")] == ["2602.00003", "2602.00001"]  # day 5 is before the window
        assert [p.id for p in store.papers("u")] == ["2602.00002"]
        assert store.fetch_runs("t")[-1]["removed"] == 1


def test_moving_topics_swaps_slugs_keeping_membership_log_and_coverage(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        for slug, n in (("a", 1), ("b", 2)):
            store.save_fetch(slug, [paper(n)], started_at=T0, requests=1, record=FetchRecord(
                kind="window", state=TopicState(slug, slug.upper(), "abc", T0, T0), reported=1))
        store.move_topics({"a": "b", "b": "a"})
        assert [p.id for p in store.papers("b")] == ["2602.00001"] and [p.id for p in store.papers("a")] == ["2602.00002"]
        assert (store.topic_state("b").name, store.topic_state("a").name) == ("A", "B")
        assert len(store.fetch_runs("a")) == len(store.fetch_runs("b")) == 1
        assert store.topic_slugs() == {"a", "b"}


def test_each_request_of_a_run_is_logged_with_what_arxiv_reported_and_what_arrived(tmp_path):
    requests = [RequestRecord("ti:x", "submittedDate", 0, 317, 50)]
    with Store(tmp_path / "s.sqlite") as store:
        store.save_fetch("t", [paper(1)], started_at=T0, requests=2, record=FetchRecord(
            kind="window", requests=requests, reported=317, capped=True))
        (run,) = store.fetch_runs("t")
        assert (run["requests"], run["reported"], run["capped"]) == (2, 317, 1)
        assert store.fetch_requests(run["id"]) == requests
        coverage = store.coverage("t")
        assert (coverage.reported, coverage.stored, coverage.capped) == (317, 1, True)


def test_papers_revised_since_a_moment_are_told_apart_from_new_ones(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        save(store, "t", [paper(1), paper(2)])
    db = sqlite3.connect(path)  # these two joined the topic in 2020
    db.execute("UPDATE topic_papers SET added_at = '2020-01-01T00:00:00Z'")
    db.execute("UPDATE papers SET stored_at = '2020-01-01T00:00:00Z'")
    db.commit()
    db.close()
    with Store(path) as store:
        save(store, "t", [paper(1, version=2, title="Revised"), paper(3)])
        assert store.updated_since("t", datetime(2021, 1, 1, tzinfo=UTC)) == {"2602.00001"}


V2_SAMPLE_STORE = Path(__file__).parent / "data" / "store-v2-sample.sqlite"  # schema 2: a sample loaded


def test_a_store_of_schema_2_gains_the_delivery_log_keeping_every_row(tmp_path):
    path = tmp_path / "papers.sqlite"
    shutil.copy(V2_SAMPLE_STORE, path)
    tables = ("papers", "topic_papers", "fetch_runs", "fetch_requests", "topic_state")
    before = [rows(path, table) for table in tables]
    assert rows(path, "pragma_user_version") == [(2,)] and len(before[0]) == 120
    with Store(path) as store:
        assert store.deliveries() == []
        assert store.due_since("mail:a@example.org", "3d-reconstruction") is None  # a sample is never delivered
    assert rows(path, "pragma_user_version") == [(SCHEMA_VERSION,)]
    assert [rows(path, table) for table in tables] == before


# --- what a new version changed (schema 5) ----------------------------------------------------

def revised(n: int, version: int, **fields) -> Paper:
    return Paper(**{**paper(n).__dict__, "version": version, "updated": T0.replace(day=20), **fields})


def test_a_new_version_keeps_what_it_changed_and_the_frame_shows_it(tmp_path):
    from topic_report.frame import load_frame

    with Store(tmp_path / "s.sqlite") as store:
        save(store, "t", [paper(1), paper(2), paper(3), paper(4)])
        save(store, "t", [
            revised(1, 2, title="Paper 1, renamed", comment="12 pages, CVPR"),
            revised(2, 3, authors=["Zoë Ångström", "Author 2"]),            # the order of names is a change
            revised(3, 2, abstract="Abstract\n  3.", comment="10 pages"),    # only line breaks: nothing shown changed
            paper(4),                                                        # the same version: no revision
        ])
        assert store.revisions("t") == {"2602.00001": Revision(1, ["title", "comment"]),
                                         "2602.00002": Revision(1, ["authors"]), "2602.00003": Revision(1, [])}
        save(store, "t", [revised(1, 3, title="Paper 1, renamed", comment="12 pages, CVPR", abstract="New results.")])
        save(store, "t", [paper(2)])                                 # an older version changes nothing
        assert store.revisions("t")["2602.00001"] == Revision(2, ["abstract"])
        assert store.revisions("other") == {}
        frame = load_frame(store, "t").set_index("id")
    assert frame.loc["2602.00001", "changed"] == ["abstract"] and frame.loc["2602.00001", "previous_version"] == 2
    assert frame.loc["2602.00001", "updated"] == pd.Timestamp(T0.replace(day=20))  # the new version's date
    assert frame.loc["2602.00002", "changed"] == ["authors"] and frame.loc["2602.00003", "changed"] == []
    assert frame.loc["2602.00004", "changed"] == [] and frame.loc["2602.00004", "previous_version"] is pd.NA
    assert str(frame["previous_version"].dtype) == "Int64"


def test_an_example_paper_kept_outside_topics_records_its_new_version_too(tmp_path):
    with Store(tmp_path / "s.sqlite") as store:
        save(store, "t", [paper(1)])
        store.keep_papers([revised(1, 2, title="Renamed"), revised(1, 1)])
        save(store, "t", [revised(1, 2, title="Renamed")])  # the topic's fetch then finds it stored
        assert store.revisions("t") == {"2602.00001": Revision(1, ["title"])}
        assert [p.title for p in store.papers("t")] == ["Renamed"]


def store_as_left_by(tmp_path, version: int, *later_tables: str):
    """A store holding one paper of topic "t", as schema `version` left it: without the tables later
    versions added."""
    path = tmp_path / "papers.sqlite"
    with Store(path) as store:
        save(store, "t", [paper(1)])
    db = sqlite3.connect(path)
    for table in later_tables:
        db.execute(f"DROP TABLE {table}")
    db.execute(f"PRAGMA user_version = {version}")
    db.commit()
    db.close()
    return path


def test_a_store_of_schema_4_gains_the_revisions_keeping_every_row(tmp_path):
    path = store_as_left_by(tmp_path, 4, "revisions", "author_claims")
    before = [rows(path, "papers"), rows(path, "topic_papers"), rows(path, "fetch_runs")]
    with Store(path) as store:
        assert store.revisions("t") == {}
        save(store, "t", [revised(1, 2, comment=None)])
        assert store.revisions("t") == {"2602.00001": Revision(1, ["comment"])}
    assert rows(path, "pragma_user_version") == [(SCHEMA_VERSION,)] == [(6,)]
    assert rows(path, "topic_papers") == before[1]


def test_a_store_of_schema_5_gains_the_pinned_authors_claims_keeping_every_row(tmp_path):
    path = store_as_left_by(tmp_path, 5, "author_claims")
    before = [rows(path, "papers"), rows(path, "topic_papers")]
    with Store(path) as store:
        assert store.claims(["drettakis_g_1"]) == {"drettakis_g_1": set()}
        store.keep_claims("drettakis_g_1", ["2602.00001", "2602.00002"])
        store.keep_claims("drettakis_g_1", ["2602.00001"])  # what the feed claims now replaces what it did
        assert store.claims(["drettakis_g_1", "0000-0002-1825-0097"]) == {
            "drettakis_g_1": {"2602.00001"}, "0000-0002-1825-0097": set()}
    assert rows(path, "pragma_user_version") == [(6,)]
    assert [rows(path, "papers"), rows(path, "topic_papers")] == before
