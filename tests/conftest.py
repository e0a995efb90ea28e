"""Shared fixtures: the loopback arXiv emulator, an isolated store, and the CLI run in-process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from arxiv_server import ArxivEmulator, load_atom  # noqa: E402

SAMPLE_ATOM = ROOT / "data" / "sample" / "3d-reconstruction.atom"


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
    monkeypatch.setenv("ARXIV_API_URL", emulator.url)
    monkeypatch.setenv("TOPIC_REPORT_DB", str(tmp_path / "papers.sqlite"))
    monkeypatch.setenv("ARXIV_DELAY_SECONDS", "0.01")
    monkeypatch.setenv("ARXIV_TIMEOUT_SECONDS", "2")
    monkeypatch.chdir(ROOT)
    return tmp_path


@pytest.fixture
def cli(capsys):
    """Run `topic-report ARGS…` in-process; returns (exit code, stdout, stderr)."""
    from helpers.cli import main

    def run(*args: str):
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
