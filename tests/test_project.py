"""The path rule (helpers/project.py): the topics file, the store and the site are found from the
topics file's folder, or from explicit flags, never from wherever the command happens to run."""

from __future__ import annotations

from pathlib import Path

import pytest

from topic_report.project import Project
from topic_report.report import Parameters

from site_data import run_build, site_topics


@pytest.fixture
def project(tmp_path, monkeypatch, emulator) -> Path:
    """A project folder with one topic (the seed's 3D Reconstruction), the store left to the rule."""
    root = tmp_path / "project"
    (root / "notes").mkdir(parents=True)
    site_topics(root / "topics.yml", "3d-reconstruction")
    monkeypatch.delenv("TOPIC_REPORT_DB", raising=False)
    for name, value in emulator.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ARXIV_DELAY_SECONDS", "0.01")
    monkeypatch.setenv("ARXIV_TIMEOUT_SECONDS", "2")
    return root


def files_in(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def test_a_command_run_from_a_subfolder_uses_the_nearest_topics_file_and_its_store(project, monkeypatch, cli):
    monkeypatch.chdir(project / "notes")
    code, out, err = cli("fetch")
    assert (code, err) == (0, "") and out.startswith("3D Reconstruction: 15 fetched")
    assert (project / "data" / "papers.sqlite").is_file()
    assert files_in(project / "notes") == []
    code, out, _ = cli("digest", "--topic", "3d-reconstruction", "--limit", "1")
    assert code == 0 and out.startswith("# 3D Reconstruction")


def test_config_from_an_unrelated_folder_puts_the_store_beside_the_topics_file(project, tmp_path, monkeypatch,
                                                                               cli):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, _, err = cli("fetch", "--config", "../project/topics.yml")
    assert (code, err) == (0, "")
    assert (project / "data" / "papers.sqlite").is_file()
    assert files_in(elsewhere) == []


def test_a_relative_store_setting_is_taken_from_the_project_folder(project, monkeypatch, cli):
    monkeypatch.setenv("TOPIC_REPORT_DB", "stores/mine.sqlite")
    monkeypatch.chdir(project / "notes")
    assert cli("fetch")[0] == 0
    assert (project / "stores" / "mine.sqlite").is_file()
    assert files_in(project / "notes") == []


def test_no_topics_file_here_or_above_is_one_line_and_creates_nothing(tmp_path, monkeypatch, cli):
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    monkeypatch.chdir(nowhere)
    if any((folder / "topics.yml").exists() for folder in nowhere.parents):
        pytest.skip("a topics.yml exists above the temporary folder")
    for command in (["fetch"], ["digest", "--topic", "x"], ["build", "--offline"]):
        code, out, err = cli(*command)
        assert code == 1 and out == ""
        assert err == (f"topic-report: error: no topics.yml in {nowhere} or any folder above it: "
                       "pass --config FILE, or start a project with `topic-report init DIR`\n")
    assert files_in(nowhere) == []


def test_build_from_a_subfolder_writes_the_site_and_working_files_in_the_project_folder(project, monkeypatch):
    monkeypatch.chdir(project / "notes")
    run = run_build({}, "--offline")
    assert run.code == 0, run.err
    assert (project / "_site" / "index.html").is_file() and (project / "_site" / "3d-reconstruction.html").is_file()
    assert (project / "build" / "state.json").is_file()
    assert files_in(project / "notes") == []


def test_the_notebook_follows_the_same_rule(project, monkeypatch):
    monkeypatch.chdir(project / "notes")  # Jupyter runs a notebook in the notebook's folder
    parameters = Parameters.check(topic="3D Reconstruction")
    assert parameters.project() == Project(project / "topics.yml")
    assert parameters.store_path() == project / "data" / "papers.sqlite"
    monkeypatch.setenv("TOPIC_REPORT_DB", "stores/mine.sqlite")
    assert parameters.store_path() == project / "stores" / "mine.sqlite"
    given = Parameters.check(topic="x", config="../topics.yml", db_path="../other.sqlite")
    assert (given.project().root, given.store_path()) == (Path(".."), Path("../other.sqlite"))
