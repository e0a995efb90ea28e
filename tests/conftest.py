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
