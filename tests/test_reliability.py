"""Faults met in real use, end to end through processes: the 3-second rule, a hang that ends,
a fetch killed mid-way, two fetches at once, a reader while a writer holds the store."""

import os
import signal
import sqlite3
import subprocess
import sys

from conftest import ROOT
from test_fetch import SEED_WINDOW, dump, fetch


def test_the_three_second_rule_holds_through_retries(env, cli, emulator, monkeypatch):
    monkeypatch.delenv("ARXIV_DELAY_SECONDS")  # the default: 3 s between requests
    emulator.fault("status", times=1, code=503)
    code, out, err = fetch(cli, *SEED_WINDOW)
    assert code == 0, err
    first, second = (r.time for r in emulator.requests)
    assert second - first >= 3.0


def test_a_hang_ends_within_the_timeout_and_is_retried(env, cli, emulator, monkeypatch):
    monkeypatch.setenv("ARXIV_TIMEOUT_SECONDS", "0.5")
    emulator.fault("hang", times=1)
    code, out, err = fetch(cli, *SEED_WINDOW)
    assert code == 0, err
    assert "15 fetched, 15 new, 0 updated, 2 API requests" in out


def start_fetch(env_dir, emulator, *extra):
    environment = {**os.environ, **emulator.environment(), "TOPIC_REPORT_DB": str(env_dir / "papers.sqlite"),
                   "ARXIV_DELAY_SECONDS": "0", "ARXIV_PAGE_SIZE": "5"}
    return subprocess.Popen([sys.executable, "-m", "topic_report", "fetch", "--topic", "3d-reconstruction", *SEED_WINDOW,
                             *extra], cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_a_fetch_killed_mid_way_leaves_the_store_as_it_was(env, cli, emulator):
    fetch(cli, "--since", "2026-02-09", "--until", "2026-02-09")
    before = dump(env / "papers.sqlite")
    emulator.fault("hang", times=1, when=lambda p: p["start"] == "5")
    process = start_fetch(env, emulator)
    assert emulator.wait_for_requests(3, timeout=30)  # the earlier fetch, page 1, then the hung page 2
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    assert dump(env / "papers.sqlite") == before
    db = sqlite3.connect(env / "papers.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_two_fetches_of_one_topic_at_once_store_each_paper_once(env, emulator):
    processes = [start_fetch(env, emulator) for _ in range(2)]
    results = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], results
    assert sorted(out.split(", ")[1] for out, _ in results) == ["0 new", "15 new"]
    db = sqlite3.connect(env / "papers.sqlite")
    assert db.execute("SELECT count(*), count(DISTINCT id) FROM papers").fetchone() == (15, 15)
    assert db.execute("SELECT count(*) FROM topic_papers").fetchone()[0] == 15


def test_readers_see_the_last_commit_while_a_writer_holds_the_store(env, cli, emulator):
    fetch(cli, *SEED_WINDOW)
    writer = sqlite3.connect(env / "papers.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM topic_papers")  # uncommitted: nobody else may see it
    try:
        code, digest, _ = cli("digest", "--topic", "3d-reconstruction")
        assert code == 0 and "Total papers shown: **15**" in digest
        waiting = start_fetch(env, emulator)  # must wait for the writer, then succeed
        assert emulator.wait_for_requests(1 + 3, timeout=30)  # the first fetch, then three pages of 5
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert "15 fetched, 0 new" in out


def test_a_build_while_a_fetch_writes_shows_the_last_commit(env, cli, emulator, tmp_path):
    from site_data import run_build, site_topics

    fetch(cli, *SEED_WINDOW)
    writer = sqlite3.connect(env / "papers.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM topic_papers")  # a writer mid-transaction
    try:
        config = site_topics(tmp_path / "topics.yml", "3d-reconstruction")
        run = run_build({}, "--offline", "--config", str(config), "--output-dir", str(tmp_path / "_site"))
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert run.code == 0, run.err
    page = (tmp_path / "_site" / "3d-reconstruction.html").read_text(encoding="utf-8")
    assert '<span class="stat-value">15</span><span class="stat-label">papers</span>' in page


def test_a_failed_request_counts_for_the_delay_too(env, cli, emulator, monkeypatch):
    """A topic failing at once (connection reset) must not let the next topic's request follow at once."""
    monkeypatch.setenv("ARXIV_DELAY_SECONDS", "0.5")
    monkeypatch.setenv("ARXIV_RETRIES", "0")
    emulator.fault("reset", times=1)
    config = env / "topics.yml"
    config.write_text("topics:\n"
                      "  - {name: First, slug: first, terms: [point clouds], categories: [cs.CV]}\n"
                      "  - {name: Second, slug: second, terms: [point clouds], categories: [cs.CV]}\n")
    code, out, err = cli("fetch", "--config", str(config), *SEED_WINDOW)
    assert code == 1 and "First: the connection to arXiv broke off" in err and out.startswith("Second: ")
    first, second = (r.time for r in emulator.requests)
    assert second - first >= 0.49
