"""Issue 20, hardening's third round: inputs that crashed, misled, or reached arXiv malformed.
Each is refused before any request, in one line naming the topic or option, exit 1, no
traceback, the store as it was; an exclude that empties a term is said in the run line."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from topic_report.store import Store

from conftest import ROOT
from test_cli import read_only, run, store_dir  # noqa: F401 (a fixture)
from test_fetch import SEED_WINDOW, dump, fetch

TOPIC = """\
{top}topics:
  - name: Odd
    slug: odd
{body}"""


def topics_file(tmp_path, body: str, top: str = ""):
    path = tmp_path / "topics.yml"
    path.write_text(TOPIC.format(top=top, body=body), encoding="utf-8")
    return path


@pytest.fixture
def seeded(env, cli, emulator):
    """The store holding the seed's papers; returns its rows, and the emulator's requests so far."""
    code, _, err = fetch(cli, *SEED_WINDOW)
    assert code == 0, err
    return dump(env / "papers.sqlite"), len(emulator.requests)


def refused_before_any_request(result, env, emulator, seeded, message: str) -> None:
    code, out, err = result
    assert code == 1 and out == "", out
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert message in err, err
    assert len(emulator.requests) == seeded[1]
    assert dump(env / "papers.sqlite") == seeded[0]


# --- 1. characters that do not show as themselves ------------------------------------------------

HIDDEN = [("\\0", "U+0000"), ("\\a", "U+0007"), ("\\e", "U+001B"), ("\\u200d", "U+200D"), ("\\u202e", "U+202E")]


@pytest.mark.parametrize("escape, code_point", HIDDEN, ids=["NUL", "BEL", "ESC", "ZWJ", "RLO"])
@pytest.mark.parametrize("key, body", [
    ("terms", '    terms: ["video{c}generation"]\n'),
    ("exclude", '    terms: [video generation]\n    exclude: ["sur{c}vey"]\n'),
    ("query", '    query: "ti:video{c}generation"\n'),
])
def test_control_and_format_characters_in_what_is_sent_to_arxiv_are_refused(env, cli, emulator, seeded, escape,
                                                                             code_point, key, body):
    path = topics_file(env, body.format(c=escape))
    refused_before_any_request(cli("fetch", "--config", str(path)), env, emulator, seeded,
                               f"{path}:2: topic 'Odd': {key}: ")
    assert f"holds {code_point}, a control or format character" in cli("fetch", "--config", str(path))[2]


@pytest.mark.parametrize("escape, code_point", HIDDEN[2:], ids=["ESC", "ZWJ", "RLO"])
def test_a_topic_name_with_a_format_character_is_refused(env, cli, emulator, seeded, escape, code_point):
    path = topics_file(env, "    terms: [x]\n")
    path.write_text(path.read_text().replace("name: Odd", f'name: "Od{escape}d"'), encoding="utf-8")
    refused_before_any_request(cli("fetch", "--config", str(path)), env, emulator, seeded,
                               f": name: must be one line of text, without line breaks, control or format "
                               f"characters ({code_point})")


# --- 2. and 3. queries arXiv refuses or reads differently ------------------------------------------

SYNTAX = "is not part of arXiv's query syntax (its API manual documents fields, AND, OR, ANDNOT, parentheses"


@pytest.mark.parametrize("query, message", [
    ("(" * 500 + "ti:video" + ")" * 500, "nests parentheses more than 32 deep"),
    ("ti:diffusion OR ti:[video", f"ti:[video: '[' {SYNTAX}"),
    ("ti:video OR ti:{clip}", f"ti:{{clip}}: '{{' {SYNTAX}"),
    ("3d:reconstruction", "unknown field '3d:'"),
    ("tí:video", "unknown field 'tí:'"),
    ('ti:"video\\"', f"ti:\"video\\\": '\\\\' {SYNTAX}"),
    ("ti:video~", f"ti:video~: '~' {SYNTAX}"),
    ("ti:video^2", f"ti:video^2: '^' {SYNTAX}"),
    ("ti:vid?o", f"ti:vid?o: '?' {SYNTAX}"),
    ("ti:vid*", f"ti:vid*: '*' {SYNTAX}"),
    ("+ti:video", f"+ti:: '+' {SYNTAX}"),
    ("ti:+video", f"ti:+video: '+' {SYNTAX}"),
    ("ti:video:generation", "ti:video:…: a ':' inside a value, which arXiv reads as another field"),
    ("cat:cs.*", "cat:cs.*: 'cs.*' is not an arXiv category such as cs.CV"),
], ids=["nested", "bracket", "brace", "digit-field", "accented-field", "backslash", "tilde", "caret", "question",
        "star", "plus-field", "plus-word", "colon", "category-wildcard"])
def test_a_query_arxiv_would_refuse_or_misread_is_refused(env, cli, emulator, seeded, query, message):
    path = topics_file(env, "    query: '" + query.replace("'", "''") + "'\n")
    refused_before_any_request(cli("fetch", "--config", str(path)), env, emulator, seeded,
                               f"{path}:2: topic 'Odd': query: {message}")


def test_a_category_wildcard_is_refused_alike_in_categories(env, cli, emulator, seeded):
    path = topics_file(env, "    terms: [video]\n    categories: [cs.*]\n")
    refused_before_any_request(cli("fetch", "--config", str(path)), env, emulator, seeded,
                               "'cs.*' is not an arXiv category such as cs.CV")


def test_a_query_too_long_for_one_request_is_refused(env, cli, emulator, seeded):
    terms = ", ".join(f"term number {i}" for i in range(700))
    path = topics_file(env, f"    terms: [{terms}]\n")
    refused_before_any_request(cli("fetch", "--config", str(path)), env, emulator, seeded,
                               f"{path}:2: topic 'Odd': its arXiv query takes ")
    assert "bytes of the request, more than the 7,500 one request may carry" in cli("fetch", "--config", str(path))[2]


def test_a_top_level_exclude_that_makes_a_query_too_long_names_the_topic(env, cli, emulator, seeded):
    exclude = ", ".join(f"excluded phrase {i}" for i in range(150))
    path = topics_file(env, "    terms: [video]\n", top=f"exclude: [{exclude}]\n")
    refused_before_any_request(cli("fetch", "--config", str(path)), env, emulator, seeded,
                               "topic 'Odd': its arXiv query takes ")
    assert "(the top-level exclude counts for every topic)" in cli("fetch", "--config", str(path))[2]


def test_a_query_just_under_the_limit_is_asked(env, cli, emulator):
    terms = ", ".join(f"term number {i}" for i in range(100))
    path = topics_file(env, f"    terms: [{terms}, 3D reconstruction]\n")
    code, out, err = cli("fetch", "--config", str(path), *SEED_WINDOW)
    assert code == 0 and ", 1 API request;" in out, err
    assert len(emulator.requests[-1].params["search_query"]) > 4_000


# --- 5. numbers and dates -------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["digest_limit", "max_results"])
def test_a_count_beyond_all_of_arxiv_is_refused(env, cli, emulator, seeded, key):
    path = topics_file(env, f"    terms: [x]\n    {key}: 99999999999999999999\n")
    refused_before_any_request(cli("fetch", "--config", str(path)), env, emulator, seeded,
                               f"{path}:2: topic 'Odd': {key}: 99,999,999,999,999,999,999 is more papers than arXiv "
                               "holds; at most 10,000,000")


def test_a_digest_limit_beyond_all_of_arxiv_is_refused(tmp_path):
    result = run("digest", "--topic", "3d-reconstruction", "--limit", "99999999999999999999",
                 env={"TOPIC_REPORT_DB": str(tmp_path / "s.sqlite")})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr == ("topic-report digest: error: argument --limit: 99,999,999,999,999,999,999 is more "
                             "papers than arXiv holds; at most 10,000,000 (see --help)\n")


@pytest.mark.parametrize("dates, message", [
    (["--since", "0001-01-01"], "--since 0001-01-01 is before arXiv's first paper (1991-08-14)"),
    (["--since", "2026-01-01", "--until", "9999-12-31"], "--until 9999-12-31 is in the future"),
    (["--until", "1991-08-13"], "--until 1991-08-13 is before arXiv's first paper (1991-08-14)"),
])
def test_dates_outside_arxivs_life_are_refused(env, cli, emulator, seeded, dates, message):
    refused_before_any_request(fetch(cli, *dates), env, emulator, seeded, f"topic-report: error: {message}")


def test_a_digest_to_a_full_disk_is_one_line(env, cli, seeded):
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "topic_report", "digest", "--topic", "3d-reconstruction"],
                                stdout=full, stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 1
    assert result.stderr == "topic-report: error: cannot write to standard output: No space left on device\n"


# --- 4. stores that cannot be used as they are -------------------------------------------------------

def test_a_read_only_store_fails_before_the_first_request(store_dir, emulator):
    db = store_dir / "papers.sqlite"
    env = {"TOPIC_REPORT_DB": str(db), "ARXIV_API_URL": emulator.url, "ARXIV_DELAY_SECONDS": "0"}
    assert run("fetch", "--topic", "3d-reconstruction", *SEED_WINDOW, env=env).returncode == 0
    before, asked = db.read_bytes(), len(emulator.requests)
    with read_only(db) as user:
        result = run("fetch", "--topic", "3d-reconstruction", *SEED_WINDOW, env=env, user=user)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr == (f"topic-report: error: store {db} is readonly here (the file or its folder may not be "
                             "written): a fetch could not save; make both writable, or build with --offline\n")
    assert len(emulator.requests) == asked and db.read_bytes() == before


def test_a_read_only_store_with_changes_left_in_its_wal_is_refused(tmp_path, store_dir):
    """A store whose last commit is still in its -wal file (a writer killed, the folder then made
    read-only): `immutable` would read the file without it, stale, and exit 0."""
    made = tmp_path / "made"
    made.mkdir()
    Store(made / "papers.sqlite").close()
    writer = sqlite3.connect(made / "papers.sqlite")
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("INSERT INTO topic_state VALUES ('odd', 'Odd', 'x', '2026-01-01T00:00:00Z', "
                   "'2026-01-01T00:00:00Z', NULL)")
    writer.commit()
    for name in ("papers.sqlite", "papers.sqlite-wal"):  # the -shm stays behind, as after a crash
        (store_dir / name).write_bytes((made / name).read_bytes())
    writer.close()
    db = store_dir / "papers.sqlite"
    with read_only(db) as user:
        result = run("digest", "--topic", "3d-reconstruction", env={"TOPIC_REPORT_DB": str(db)}, user=user)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (f"topic-report: error: store {db} is read-only and its last changes are in "
                             "papers.sqlite-wal, which cannot be read without writing beside it; make its folder "
                             "writable once\n")


def test_a_file_of_proc_is_not_a_store(tmp_path):
    result = run("digest", "--topic", "3d-reconstruction", env={"TOPIC_REPORT_DB": "/proc/self/status"},
                 user="65534" if os.geteuid() == 0 else None)  # root may write it
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == ("topic-report: error: store /proc/self/status is not a topic-report store (SQLite finds "
                             "no tables in it, and it is read-only); name another file\n")


# --- 6. an exclude that empties a term --------------------------------------------------------------

def test_an_exclude_equal_to_a_term_is_said_in_the_run_line(env, cli, emulator):
    path = topics_file(env, "    terms: [3D reconstruction, NeRF]\n    exclude: [nerf]\n",
                       top="exclude: [3D Reconstruction]\n")
    code, out, err = cli("fetch", "--config", str(path), *SEED_WINDOW)
    assert out.startswith("Odd: 0 fetched") and "Traceback" not in err
    assert ("exclude '3D Reconstruction' rules out every paper of the term '3D reconstruction'; exclude 'nerf' "
            "rules out every paper of the term 'NeRF'") in out


def test_a_store_in_a_folder_that_may_not_be_searched_is_one_line(store_dir):
    private = store_dir / "private"
    private.mkdir()
    private.chmod(0o000)
    try:
        result = run("digest", "--topic", "3d-reconstruction", env={"TOPIC_REPORT_DB": str(private / "papers.sqlite")},
                     user="65534" if os.geteuid() == 0 else None)
    finally:
        private.chmod(0o755)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f"topic-report: error: cannot open store {private / 'papers.sqlite'}: Permission denied\n"
