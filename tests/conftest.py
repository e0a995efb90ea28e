"""Shared fixtures: the loopback arXiv emulator, an isolated store, and the CLI run in-process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from arxiv_server import SHARED_DIR, ArxivEmulator, load_atom  # noqa: E402


def needs_shared(*parts: str) -> pytest.MarkDecorator:
    """Skip a test that reads `../shared/<parts>` (real arXiv data beside the clone) where it is absent."""
    path = SHARED_DIR.joinpath(*parts)
    return pytest.mark.skipif(not path.exists(), reason=f"no {path} (the shared data beside the clone)")

# The seed digest's 15 papers (data/sample/make_samples.py); the digest test reproduces the seed from them.
SAMPLE_ATOM = ROOT / "tests" / "data" / "seed-digest.atom"


@pytest.fixture
def sample_records() -> list[dict]:
    """The seed digest's 15 papers, as emulator records."""
    return load_atom(SAMPLE_ATOM)


@pytest.fixture
def emulator(sample_records):
    with ArxivEmulator(papers=sample_records) as emu:
        yield emu


@pytest.fixture
def env(tmp_path, monkeypatch, emulator):
    """Point the project at the emulator and a fresh store; fast delays for functional tests."""
    for name, value in emulator.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TOPIC_REPORT_DB", str(tmp_path / "papers.sqlite"))
    monkeypatch.setenv("ARXIV_DELAY_SECONDS", "0.01")
    monkeypatch.setenv("ARXIV_TIMEOUT_SECONDS", "2")
    monkeypatch.chdir(ROOT)
    return tmp_path


@pytest.fixture
def cli(capsys):
    """Run `topic-report ARGS…` in-process; returns (exit code, stdout, stderr)."""
    from topic_report.cli import main

    def run(*args: str):
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


# --- The built report site, shared by tests/test_site.py and tests/test_browser.py -------------

from dataclasses import dataclass  # noqa: E402

from site_data import RENDERER_NAMES, RENDERERS, BuildRun, hostile_records, require, run_build, site_topics  # noqa: E402


@pytest.fixture(params=RENDERERS)
def renderer(request) -> str:
    """Each renderer present: "nbconvert", and "quarto" (marked `quarto`; skipped without it)."""
    return require(request.param)


@dataclass(frozen=True)
class ReportSite:
    renderer: str                    # "nbconvert" or "quarto"
    output: Path                     # the rendered site
    project: Path                    # build/site: the executed notebooks, the Quarto project
    first: BuildRun                  # the first build
    executed_mtimes: dict[str, int]  # the executed notebooks' mtimes after it
    rendered_mtimes: dict[str, int]  # the rendered pages' mtimes after it
    second: BuildRun                 # the same build again, with the first topic's fetch failing

    @property
    def renderer_name(self) -> str:
        return RENDERER_NAMES[self.renderer]


def _mtimes(paths) -> dict[str, int]:
    return {path.name: path.stat().st_mtime_ns for path in paths}


@pytest.fixture(scope="session", params=RENDERERS)
def report_site(request, tmp_path_factory) -> ReportSite:
    """Build the site once per renderer: 3D Reconstruction (the sample), a hostile topic and an
    empty one."""
    renderer = require(request.param)
    root = tmp_path_factory.mktemp(f"report-{renderer}")
    config = site_topics(root / "topics.yml", "3d-reconstruction", "hostile", "nothing-yet")
    with ArxivEmulator(papers=load_atom(SAMPLE_ATOM) + hostile_records()) as emulator:
        environment = {**emulator.environment(), "TOPIC_REPORT_DB": str(root / "papers.sqlite"),
                       "ARXIV_DELAY_SECONDS": "0.01", "ARXIV_TIMEOUT_SECONDS": "2", "ARXIV_RETRIES": "0"}
        args = ("--config", str(config), "--output-dir", str(root / "_site"))
        first = run_build(environment, *args, renderer=renderer)
        project = root / "build" / "site"
        executed, rendered = _mtimes(project.glob("*.ipynb")), _mtimes((root / "_site").glob("*.html"))
        emulator.fault("status", code=503)
        second = run_build(environment, *args, renderer=renderer)
    return ReportSite(renderer, root / "_site", project, first, executed, rendered, second)


# --- Daily runs against the emulator at chosen moments, shared by test_audit.py and test_coverage.py --

from dataclasses import replace  # noqa: E402
from datetime import datetime  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:  # imported when a world is made: tests that check what a module imports start clean
    from topic_report.fetching import FetchOutcome, FetchSummary
    from topic_report.topics import Topic

    from arxiv_server import RequestRecord


class ArxivWorld:
    """A store, the real client (search, listing, OAI-PMH) and the loopback emulator, whose clock
    each run sets: days pass without waiting."""

    def __init__(self, emulator: ArxivEmulator, path: Path, topic: Topic, page_size: int):
        from topic_report.arxiv.paging import ArxivSource
        from topic_report.settings import Settings
        from topic_report.store import Store

        self.emulator, self.topic = emulator, topic
        self.store = Store(path)
        self.source = ArxivSource(replace(Settings(), api_url=emulator.url, rss_url=emulator.rss_url,
                                          oai_url=emulator.oai_url, delay_seconds=0.0, timeout_seconds=5,
                                          retries=1, page_size=page_size), progress=False)
        self.made: list[RequestRecord] = []  # the last run's requests

    def fetch(self, when: datetime, topic: Topic | None = None, **dates) -> FetchOutcome:
        """`topic-report fetch` of one topic at `when` (default: the world's topic), without the audit."""
        from topic_report.fetching import fetch_topic

        self.emulator.clock = when
        before = len(self.emulator.requests)
        outcome = fetch_topic(topic or self.topic, self.store, self.source, now=when, **dates)
        self.made = self.emulator.requests[before:]
        assert outcome.requests == len(self.made)
        return outcome

    def run(self, when: datetime, topics: tuple[Topic, ...] | None = None) -> FetchSummary:
        """A daily `topic-report fetch` at `when`: the search sweep of each topic, then the audit."""
        from topic_report.fetching import fetch_all

        self.emulator.clock = when
        before = len(self.emulator.requests)
        summary = fetch_all(list(topics or (self.topic,)), self.store, self.source, now=when)
        self.made = self.emulator.requests[before:]
        return summary

    def ids(self, topic: Topic | None = None) -> list[str]:
        return sorted(p.id for p in self.store.papers((topic or self.topic).slug))

    def kinds(self) -> list[str]:
        """Which interface each request of the last run went to."""
        return [("listing" if r.path.startswith("/rss/") else "oai" if r.path == "/oai"
                 else "id_list" if r.params.get("id_list") else "search") for r in self.made]


@pytest.fixture
def arxiv_world(tmp_path):
    """`arxiv_world(topic, page_size=2000)`: an ArxivWorld of its own emulator and store, closed after the test."""
    opened: list[tuple[ArxivEmulator, ArxivWorld]] = []

    def make(topic: Topic, page_size: int = 2000) -> ArxivWorld:
        emulator = ArxivEmulator(recorded_dir=None).start()
        world = ArxivWorld(emulator, tmp_path / f"papers-{len(opened)}.sqlite", topic, page_size)
        opened.append((emulator, world))
        return world

    yield make
    for emulator, world in opened:
        world.store.close()
        emulator.stop()
