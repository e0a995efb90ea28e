"""The command line: help, bad input as one clear line and a non-zero exit, nothing stored lost."""

import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from topic_report.store import SCHEMA_VERSION

from conftest import ROOT


def run(*args, env=None, user=None):
    """`python -m topic_report ARGS` in a subprocess; `user` runs it as that user (needs root)."""
    command = [sys.executable, "-m", "topic_report", *args]
    if user:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env={**os.environ, **(env or {})},
                          timeout=120)


@pytest.mark.parametrize("command", ["fetch", "digest", "build", "notify"])
def test_every_command_has_help(command):
    result = run(command, "--help")
    assert result.returncode == 0 and f"usage: topic-report {command}" in result.stdout


def test_console_script_is_installed():
    script = shutil.which("topic-report", path=os.path.dirname(sys.executable))
    assert script, "pip install -e . provides the topic-report command"
    assert subprocess.run([script, "--help"], capture_output=True).returncode == 0


@pytest.mark.parametrize("args, message", [
    (["digest", "--topic", "Quantum Gravity"], "topic-report: error: unknown topic 'Quantum Gravity'"),
    (["fetch", "--since", "2026-02-31"], "argument --since: '2026-02-31' is not a date of the form YYYY-MM-DD"),
    (["fetch", "--since", "2026-02-10", "--until", "2026-02-01"], "--since 2026-02-10 is after --until 2026-02-01"),
    (["digest", "--topic", "3d-reconstruction", "--limit", "0"], "'0' is not a positive whole number"),
    (["fetch", "--config", "missing.yml"], "cannot read topics file missing.yml"),
])
def test_bad_input_gets_one_line_and_non_zero_exit(tmp_path, args, message):
    result = run(*args, env={"TOPIC_REPORT_DB": str(tmp_path / "s.sqlite")})
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_environment_values_are_refused(tmp_path):
    result = run("fetch", env={"ARXIV_PAGE_SIZE": "5000", "TOPIC_REPORT_DB": str(tmp_path / "s.sqlite")})
    assert result.returncode == 1
    assert result.stderr == "topic-report: error: ARXIV_PAGE_SIZE='5000' exceeds the API's maximum of 2000\n"


def test_a_store_that_is_not_sqlite_is_refused_and_kept(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n")
    result = run("digest", "--topic", "3d-reconstruction", env={"TOPIC_REPORT_DB": str(notes)})
    assert result.returncode == 1
    assert result.stderr.strip().endswith("is not usable: file is not a database")
    assert notes.read_text() == "not a database\n"


@pytest.fixture
def store_dir():
    """A folder for a store that `nobody` may reach: in /tmp itself, not in pytest's folders,
    which any pytest session starting meanwhile makes private (0700) again."""
    folder = Path(tempfile.mkdtemp(prefix="topic-report-store-"))
    folder.chmod(0o755)
    yield folder
    folder.chmod(0o755)
    shutil.rmtree(folder)


@contextmanager
def read_only(db):
    """The store (in `store_dir`) and its folder read-only while inside; gives the user to run
    as: `nobody` when the tests run as root (root may write read-only files)."""
    db.chmod(0o444)
    db.parent.chmod(0o555)
    try:
        yield "65534" if os.geteuid() == 0 else None
    finally:
        db.parent.chmod(0o755)


def test_a_read_only_store_fails_clearly_and_keeps_its_papers(store_dir, emulator):
    """Runs as `nobody` when the tests run as root (root may write read-only files)."""
    db = store_dir / "papers.sqlite"
    env = {"TOPIC_REPORT_DB": str(db), **emulator.environment(), "ARXIV_DELAY_SECONDS": "0"}
    window = ["--topic", "3d-reconstruction", "--since", "2026-02-01", "--until", "2026-02-11"]
    assert run("fetch", *window, env=env).returncode == 0
    before = db.read_bytes()
    with read_only(db) as user:
        digest = run("digest", "--topic", "3d-reconstruction", env=env, user=user)
        assert digest.returncode == 0 and "Total papers shown: **15**" in digest.stdout
        fetch = run("fetch", *window, env=env, user=user)
        assert fetch.returncode == 1
        assert "readonly" in fetch.stderr and "Traceback" not in fetch.stderr
    assert db.read_bytes() == before


def test_a_read_only_store_of_the_first_schema_says_it_cannot_be_upgraded(store_dir):
    """An old store we may not write cannot be upgraded: one line, and the file stays as it was."""
    db = store_dir / "papers.sqlite"
    shutil.copy(ROOT / "tests" / "data" / "store-v1.sqlite", db)
    before = db.read_bytes()
    with read_only(db) as user:
        digest = run("digest", "--topic", "3d-reconstruction", env={"TOPIC_REPORT_DB": str(db)}, user=user)
    assert digest.returncode == 1 and digest.stdout == ""
    assert digest.stderr == (f"topic-report: error: store {db} has schema version 1 and is read-only, so it "
                             f"cannot be upgraded to version {SCHEMA_VERSION}; make it writable once\n")
    assert db.read_bytes() == before
