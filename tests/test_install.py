"""Installed like a tool: the wheel carries the notebook, templates, samples and _quarto.yml, and
`topic-report init DIR` makes a project that builds offline, run from an unrelated folder.

The wheel is built from a copy of the checkout without build isolation, and installed without
dependencies into a fresh venv that borrows the test venv's packages (a .pth file), so the test
stays fast and offline while the code and files it runs are the wheel's only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml
from test_workflow import actionlint

from topic_report.starter import requirement

from conftest import ROOT
from site_data import run_build, site_topics

# What a clean clone does not have: environments, build products, the store.
NOT_IN_A_CLONE = shutil.ignore_patterns(".git", ".venv", "build", "_site", ".quarto", "*.egg-info", "__pycache__", "node_modules",
                                        "papers.sqlite*", "out")


def run(*command, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([str(part) for part in command], cwd=cwd, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("clone") / "topic-report"
    shutil.copytree(ROOT, source, ignore=NOT_IN_A_CLONE)
    dist = source.parent / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
        "-w", dist, source, cwd=source.parent)
    (built,) = dist.glob("topic_report-*.whl")
    return built


@pytest.fixture(scope="module")
def tool(wheel, tmp_path_factory) -> Path:
    """A venv with the wheel installed; returns its bin folder."""
    venv = tmp_path_factory.mktemp("tool") / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=venv.parent)
    (purelib,) = (venv / "lib").glob("python*/site-packages")
    # The dependencies, from the test venv (its editable topic-report is not loaded: a path in a
    # .pth file is added to sys.path without processing that folder's own .pth files).
    (purelib / "test-venv-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--quiet", "--no-deps",
        "--no-index", wheel, cwd=venv.parent)
    return venv / "bin"


def tracked_files(folder: str, pattern: str = "*") -> set[str]:
    return {str(path.relative_to(ROOT)) for path in (ROOT / folder).glob(pattern) if path.is_file()}


def test_the_wheel_carries_the_notebook_templates_samples_and_quarto_config(wheel):
    shipped = {name.removeprefix("topic_report/resources/") for name in zipfile.ZipFile(wheel).namelist()
               if name.startswith("topic_report/resources/")}
    expected = {"_quarto.yml", "topics.yml", ".github/workflows/report.yml", "notebooks/topic.ipynb",
                *tracked_files("notebooks/site"),
                *tracked_files("data/sample", "*.atom")}
    assert expected <= shipped
    starter = yaml.safe_load((ROOT / "topics.yml").read_text(encoding="utf-8"))["topics"]
    assert {f"data/sample/{topic['slug']}.atom" for topic in starter} <= shipped, "init's topics build offline"
    # The table's files and the site's shared table library, built and committed: not its recipe.
    assets = {name for name in zipfile.ZipFile(wheel).namelist() if name.startswith("topic_report/assets/")}
    assert assets == {f"topic_report/assets/{name}" for name in ("papers-table.js", "papers-table.css", "datatables.js",
                                                                  "datatables.css", "datatables.LICENSE.txt")}


def test_init_then_an_offline_build_from_an_unrelated_folder(tool, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # The jupyter data (nbconvert's templates, the kernel spec) of the borrowed dependencies.
    env = {"JUPYTER_PATH": str(Path(sysconfig.get_paths()["data"]) / "share" / "jupyter"),
           "TOPIC_REPORT_DB": "", "PATH": f"{tool}{os.pathsep}{os.environ['PATH']}"}
    resources = run(tool / "python", "-c", "import topic_report; print(topic_report.RESOURCES)", cwd=elsewhere, env=env)
    assert Path(resources.stdout.strip()).is_relative_to(tool.parent), "the wheel's files, not the checkout's"

    made = run(tool / "topic-report", "init", "../report", cwd=elsewhere, env=env)
    project = tmp_path / "report"
    assert sorted(path.name for path in project.iterdir()) == [".github", ".gitignore", "README.md", "_quarto.yml",
                                                               "topics.yml"]
    assert (project / ".github" / "workflows" / "report.yml").is_file()
    assert "cd ../report && topic-report build" in made.stdout

    # One topic of the three, for time: every one has its sample (test above).
    built = run(tool / "topic-report", "build", "--offline", "--topic", "3d-reconstruction",
                "--config", "../report/topics.yml", cwd=elsewhere, env=env)
    assert "loaded 120 from the shipped sample" in built.stdout
    page = project / "_site" / "3d-reconstruction.html"
    assert (project / "_site" / "index.html").is_file() and page.is_file()
    assert "3D Reconstruction" in page.read_text(encoding="utf-8")
    assert len(list((project / "_site" / "assets").glob("datatables-*/datatables.js"))) == 1
    assert (project / "data" / "papers.sqlite").is_file()
    assert list(elsewhere.iterdir()) == []

    (project / "notes").mkdir()
    again = run(tool / "topic-report", "build", "--offline", "--topic", "3d-reconstruction", cwd=project / "notes",
                env=env)
    assert "3D Reconstruction: unchanged, page kept" in again.stdout
    assert list((project / "notes").iterdir()) == []


def test_init_overwrites_nothing_and_says_so_in_one_line(tmp_path, cli):
    (tmp_path / "README.md").write_text("mine\n")
    code, out, err = cli("init", str(tmp_path))
    assert (code, out) == (1, "")
    assert err == (f"topic-report: error: {tmp_path} already has README.md: "
                   "topic-report init writes a new project and overwrites nothing\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["README.md"]
    assert (tmp_path / "README.md").read_text() == "mine\n"
    (tmp_path / "a-file").write_text("")
    assert cli("init", str(tmp_path / "a-file"))[2] == f"topic-report: error: {tmp_path / 'a-file'} is not a folder\n"


def test_init_writes_the_daily_workflow_installing_topic_report(tmp_path, cli):
    code, out, err = cli("init", str(tmp_path / "radar"))
    assert code == 0 and ".github/workflows/report.yml" in out
    written = (tmp_path / "radar" / ".github" / "workflows" / "report.yml").read_text(encoding="utf-8")
    shipped = (ROOT / ".github" / "workflows" / "report.yml").read_text(encoding="utf-8")
    changed = [(a, b) for a, b in zip(shipped.splitlines(), written.splitlines(), strict=False) if a != b]
    assert changed == [("        run: python -m pip install .",
                        f'        run: python -m pip install "topic-report=={version("topic-report")}"')]
    assert actionlint(tmp_path / "radar" / ".github" / "workflows" / "report.yml") == []


def test_the_project_s_quarto_yml_shapes_its_site(tmp_path, monkeypatch, cli):
    assert cli("init", str(tmp_path / "radar"))[0] == 0
    quarto_yml = tmp_path / "radar" / "_quarto.yml"
    config = yaml.safe_load(quarto_yml.read_text(encoding="utf-8"))
    config["website"]["title"] = "Radar <of> mine"
    quarto_yml.write_text(yaml.safe_dump(config), encoding="utf-8")
    monkeypatch.chdir(tmp_path / "radar")
    run = run_build({"TOPIC_REPORT_DB": ""}, "--offline", "--topic", "3d-reconstruction")
    assert run.code == 0, run.err
    assert "Radar &lt;of&gt; mine" in (tmp_path / "radar" / "_site" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("text, problem", [
    ("website: [unclosed\n", "{path}:2: invalid YAML: expected ',' or ']', but got '<stream end>'"),
    ("- a list\n", "{path}: expected a mapping of Quarto settings"),
    ("website: Radar\n", "{path}: website must be a mapping of settings"),
    ("format:\n  html: null\n", "{path}: format.html must be a mapping of settings"),
])
def test_a_broken_quarto_yml_stops_the_build_in_one_line_before_any_work(tmp_path, monkeypatch, cli, text, problem):
    site_topics(tmp_path / "topics.yml", "3d-reconstruction")
    (tmp_path / "_quarto.yml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOPIC_REPORT_DB", "")
    code, out, err = cli("build", "--offline")
    assert (code, out) == (1, "")
    assert err == f"topic-report: error: {problem.format(path=tmp_path / '_quarto.yml')}\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["_quarto.yml", "topics.yml"]


@pytest.mark.parametrize("direct_url, origin, commit, expected", [
    (None, None, None, f"topic-report=={version('topic-report')}"),  # from an index
    ({"url": "https://github.com/someone/topic-report.git", "vcs_info": {"vcs": "git", "commit_id": "abc123"}},
     None, None, "topic-report @ git+https://github.com/someone/topic-report.git@abc123"),
    ({"url": "https://example.org/dist/topic_report-0.1.0-py3-none-any.whl", "archive_info": {}}, None, None,
     "topic-report @ https://example.org/dist/topic_report-0.1.0-py3-none-any.whl"),
    ({"url": "file:///home/me/topic-report", "dir_info": {"editable": True}}, "https://github.com/me/topic-report",
     "def456", "topic-report @ git+https://github.com/me/topic-report@def456"),  # a clone: its origin, its commit
    ({"url": "file:///home/me/topic-report", "dir_info": {}}, "/srv/git/topic-report", "def456",
     f"topic-report=={version('topic-report')}"),  # an origin CI cannot reach: the version, and init says so
])
def test_the_project_s_workflow_installs_topic_report_from_where_it_came(direct_url, origin, commit, expected):
    assert requirement(direct_url, origin, commit) == expected
