"""The README's by-hand commands ("By hand") leave tracked files and the built site alone.

Run as a user runs them, from the checkout, as separate processes: the scratch build of one
topic's page (Quarto where it is installed, else nbconvert), papermill on the report notebook,
nbconvert on its output. The store is the test's own (the commands' default is data/, which
git ignores). `quarto preview` of a copy is not run: it serves until stopped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from topic_report.arxiv.feed import parse_feed

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout


def snapshot(directory: Path) -> dict[str, int]:
    return {str(path.relative_to(directory)): path.stat().st_mtime_ns
            for path in directory.rglob("*") if path.is_file()} if directory.is_dir() else {}


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_the_documented_by_hand_commands_modify_no_tracked_file_and_not_the_built_site(tmp_path):
    environment = {**os.environ, "TOPIC_REPORT_DB": str(tmp_path / "papers.sqlite")}
    status, built, working = git_status(), snapshot(ROOT / "_site"), snapshot(ROOT / "build")
    notebook, scratch = tmp_path / "3d.ipynb", tmp_path / "scratch"
    scratch.mkdir()
    shutil.copy(ROOT / "topics.yml", scratch)
    commands = [
        [PYTHON, "-m", "topic_report", "build", "--offline", "--config", str(scratch / "topics.yml"),
         "--topic", "3D Reconstruction"],
        [PYTHON, "-m", "papermill", "notebooks/topic.ipynb", str(notebook), "-p", "topic", "3D Reconstruction",
         "-p", "since", "2026-02-01", "--no-progress-bar"],
        [PYTHON, "-m", "jupyter", "nbconvert", "--to", "html", "--no-input", str(notebook)],
    ]
    for command in commands:
        done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True)
        assert done.returncode == 0, (command, done.stderr[-2000:])
    assert (tmp_path / "scratch" / "_site" / "3d-reconstruction.html").is_file()
    newest = parse_feed((ROOT / "data" / "sample" / "3d-reconstruction.atom").read_bytes())[0]  # the sample, newest first
    assert newest.title in (tmp_path / "3d.html").read_text(encoding="utf-8")
    assert git_status() == status
    assert snapshot(ROOT / "_site") == built and snapshot(ROOT / "build") == working
