"""The SQLite store: newest version wins, membership, run log, bad files, two writers at once."""

import multiprocessing
import sqlite3
from datetime import datetime, timezone

import pytest

from helpers import TopicReportError
from helpers.store import Paper, Store

T0 = datetime(2026, 2, 10, 12, 0, tzinfo=timezone.utc)


def paper(n: int, version: int = 1, title: str | None = None, day: int = 10) -> Paper:
    return Paper(
        id=f"2602.{n:05d}", version=version, title=title or f"Paper {n}", abstract=f"Abstract {n}.",
        authors=[f"Author {n}", "Zoë Ångström"], affiliations=[["Lab"], []],
        published=T0.replace(day=day), updated=T0.replace(day=day),
        primary_category="cs.CV", categories=["cs.CV", "cs.GR"], comment="10 pages", journal_ref=None,
        doi="10.1000/x", links=[{"href": "https://arxiv.org/abs/x", "rel": "alternate", "title": None, "type": "text/html"}],
    )


def save(store, topic, papers):
    return store.save_fetch(topic, papers, since=None, until=None, started_at=T0, requests=1)


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
